import type { KubeConfig } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { listObjects, type KubeObject } from "../kube/index.js";
import { podNodeName, podReady, runningSince } from "../kube/readiness.js";

const PODS = { apiVersion: "v1", kind: "Pod" } as const;
const nameOf = (p: KubeObject) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/**
 * The pods a restore in place restarts (outside kube-system, bound to a node) that the snapshot has
 * Ready. Read right after the objects were replaced, while the kubelets are stopped: their status is
 * still the saved one.
 */
export async function savedReadyWorkloads(kc: KubeConfig): Promise<string[]> {
  const { items } = await listObjects(kc, { ...PODS, fieldSelector: "metadata.namespace!=kube-system" });
  return items.filter((p) => podNodeName(p) && podReady(p)).map(nameOf);
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

interface OwnerRef {
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** A controller whose pods a copy waits for: how many of its pods the snapshot has Ready, and its name in words. */
export interface SavedOwner {
  ready: number;
  name: string;
}

function controllerOf(pod: KubeObject): OwnerRef | undefined {
  const refs = (pod.metadata?.ownerReferences ?? []) as OwnerRef[];
  const ref = refs.find((r) => r.controller);
  // A static pod's mirror is "owned" by its Node; its kubelet, not a controller, runs it.
  return ref?.uid && ref.kind !== "Node" ? ref : undefined;
}

/**
 * The controllers (by UID) of the pods bound to `nodes` that the snapshot has Ready, in every
 * namespace: read in a copy before those pods are handed over (deleted, for their controllers to
 * make again on the copy's nodes). A pod without a controller does not come back, so it is not waited for.
 */
export async function savedReadyOwners(kc: KubeConfig, nodes: ReadonlySet<string>): Promise<Map<string, SavedOwner>> {
  const { items } = await listObjects(kc, PODS);
  const owners = new Map<string, SavedOwner>();
  for (const p of items) {
    const owner = controllerOf(p);
    if (!owner || !nodes.has(podNodeName(p) ?? "") || !podReady(p)) continue;
    const seen = owners.get(owner.uid!) ?? { ready: 0, name: `${owner.kind} ${p.metadata?.namespace}/${owner.name}` };
    owners.set(owner.uid!, { ...seen, ready: seen.ready + 1 });
  }
  return owners;
}

/**
 * Waits until each of `owners` has as many Ready pods running since `sinceMs` as the snapshot had;
 * returns the names of those that have not within `timeoutMs`.
 */
export async function waitOwnersBack(
  kc: KubeConfig,
  owners: ReadonlyMap<string, SavedOwner>,
  sinceMs: number,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<string[]> {
  const deadline = Date.now() + opts.timeoutMs;
  let waiting = [...owners.keys()];
  while (waiting.length) {
    const { items } = await listObjects(kc, PODS, opts.signal);
    const back = new Map<string, number>();
    for (const p of items) {
      const uid = controllerOf(p)?.uid;
      if (uid && podReady(p) && runningSince(p, sinceMs)) back.set(uid, (back.get(uid) ?? 0) + 1);
    }
    waiting = waiting.filter((uid) => (back.get(uid) ?? 0) < owners.get(uid)!.ready);
    if (!waiting.length || Date.now() > deadline) break;
    await sleep(250, undefined, { signal: opts.signal });
  }
  return waiting.map((uid) => owners.get(uid)!.name);
}
