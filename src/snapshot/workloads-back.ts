import type { KubeConfig } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { listObjects, type KubeObject } from "../kube/index.js";
import { podReady, runningSince } from "../kube/readiness.js";

const PODS = { apiVersion: "v1", kind: "Pod" } as const;
const nameOf = (p: KubeObject) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/**
 * The pods a restore in place restarts (outside kube-system, bound to a node) that the snapshot has
 * Ready. Read right after the objects were replaced, while the kubelets are stopped: their status is
 * still the saved one.
 */
export async function savedReadyWorkloads(kc: KubeConfig): Promise<string[]> {
  const { items } = await listObjects(kc, { ...PODS, fieldSelector: "metadata.namespace!=kube-system" });
  return items.filter((p) => p.spec && (p.spec as { nodeName?: string }).nodeName && podReady(p)).map(nameOf);
}

/**
 * Waits until each of `pods` runs again since `sinceMs` and is Ready (its saved status says Ready
 * too, so Ready alone proves nothing), or is gone; returns those not back within `timeoutMs`.
 */
export async function waitWorkloadsBack(
  kc: KubeConfig,
  pods: readonly string[],
  sinceMs: number,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<string[]> {
  const back = (p: KubeObject) => podReady(p) && runningSince(p, sinceMs);
  const deadline = Date.now() + opts.timeoutMs;
  let waiting = [...pods];
  while (waiting.length) {
    const { items } = await listObjects(kc, { ...PODS, fieldSelector: "metadata.namespace!=kube-system" }, opts.signal);
    const now = new Map(items.map((p) => [nameOf(p), p]));
    waiting = waiting.filter((n) => now.has(n) && !back(now.get(n)!));
    if (!waiting.length || Date.now() > deadline) break;
    await sleep(250, undefined, { signal: opts.signal });
  }
  return waiting;
}
