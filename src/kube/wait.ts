import { setTimeout as sleep } from "node:timers/promises";
import { ApiException, HttpMethod, type KubeConfig } from "@kubernetes/client-node";
import { objectApi } from "./object-api.js";
import {
  conditionVerdict,
  daemonSetVerdict,
  deploymentVerdict,
  nodesVerdict,
  podsVerdict,
  type RestartedNodes,
  type Verdict,
} from "./readiness.js";
import { describeRef, type KubeObject, type ObjectRef } from "./types.js";
import {
  observe,
  progressVerdict,
  readyzStatus,
  remainingMs,
  startProgress,
  type ProgressLimits,
  type ProgressVerdict,
  type ReadinessProgress,
} from "./api-progress.js";
import { formatDuration, waitUntil, WaitTimeoutError, type WaitOptions } from "./watch.js";

export { WaitTimeoutError, type WaitOptions } from "./watch.js";

export interface ApiReadyOptions extends WaitOptions {
  /**
   * Gives up once the observed status (the failing readyz checks, or the connection error) has not
   * changed for this long; `timeoutMs` stays the ceiling. By default the same as `timeoutMs`.
   */
  stallMs?: number;
}

/**
 * Waits until GET /readyz answers "ok". This is the one wait that polls: before the API server
 * answers there is nothing to watch.
 */
export async function waitForApiReady(kc: KubeConfig, opts: ApiReadyOptions = {}): Promise<void> {
  const ceilingMs = opts.timeoutMs ?? 120_000;
  const limits = { ceilingMs, stallMs: Math.min(opts.stallMs ?? ceilingMs, ceilingMs) };
  const what = `the API server at ${kc.getCurrentCluster()?.server ?? "(no server)"} to be ready`;
  let progress = startProgress(Date.now());
  const seen = (status: string) => {
    if (status !== progress.status) opts.onStatus?.(status);
    progress = observe(progress, status, Date.now());
  };
  // Every start waits here, and a /readyz request to a local API server costs about a millisecond;
  // a back-off growing to seconds added up to that much to the start after the server was ready.
  const delay = 200;
  for (;;) {
    opts.signal?.throwIfAborted();
    const verdict = progressVerdict(progress, Date.now(), limits);
    if (verdict !== "wait") throw apiWaitError(what, progress, verdict, limits);
    const attempt = AbortSignal.timeout(Math.max(1, Math.min(remainingMs(progress, Date.now(), limits), 10_000)));
    try {
      const res = await objectApi(kc).send(HttpMethod.GET, "/readyz", {
        signal: opts.signal ? AbortSignal.any([attempt, opts.signal]) : attempt,
      });
      if (res.text.trim() === "ok") return;
      seen(readyzStatus(res.status, res.text));
    } catch (error) {
      opts.signal?.throwIfAborted();
      seen(describeReadyzFailure(error));
    }
    await sleep(Math.min(delay, remainingMs(progress, Date.now(), limits)), undefined, { signal: opts.signal });
  }
}

function apiWaitError(
  what: string,
  p: ReadinessProgress,
  verdict: Exclude<ProgressVerdict, "wait">,
  limits: ProgressLimits,
): WaitTimeoutError {
  // A plain deadline (stallMs not set) fails the way every other wait does.
  if (limits.stallMs === limits.ceilingMs) return new WaitTimeoutError(what, p.status, limits.ceilingMs);
  const slow =
    "The host may be too slow for a control plane (an emulated CPU, or a machine busy with other work): free some CPU and run start again.";
  if (verdict === "ceiling") return new WaitTimeoutError(`${what} (it was still making progress)`, p.status, limits.ceilingMs, slow);
  const elapsed = Date.now() - p.started;
  return new WaitTimeoutError(
    `${what} (no progress in the last ${formatDuration(limits.stallMs)}: the same readyz checks kept failing)`,
    p.status,
    elapsed - (elapsed % 1000),
    `The API server stopped making progress. ${slow}`,
  );
}

/** The failing checks of a 500 from /readyz, or the connection error. */
function describeReadyzFailure(error: unknown): string {
  if (error instanceof ApiException) return readyzStatus(error.code, typeof error.body === "string" ? error.body : "");
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}

const NODE = { apiVersion: "v1", kind: "Node" } as const;

/** One node (by name) or every node (at least one) has condition Ready=True. */
export async function waitForNodeReady(kc: KubeConfig, name?: string, opts: WaitOptions = {}): Promise<void> {
  const what = name ? `node ${name} to be Ready` : "every node to be Ready";
  await waitUntil(kc, { ...NODE, name }, (nodes) => nodesVerdict(nodes, name), what, { defaultTimeoutMs: 180_000, ...opts });
}

/** The Deployment exists, its latest spec is rolled out and every replica is available. */
export async function waitForDeploymentAvailable(kc: KubeConfig, namespace: string, name: string, opts: WaitOptions = {}): Promise<void> {
  const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace, name };
  await waitUntil(kc, ref, (objs) => deploymentVerdict(objs[0]), `${describeRef(ref)} to be available`, {
    defaultTimeoutMs: 300_000,
    ...opts,
  });
}

/** The DaemonSet exists and runs its latest spec, available, on every node it should. */
export async function waitForDaemonSetReady(kc: KubeConfig, namespace: string, name: string, opts: WaitOptions = {}): Promise<void> {
  const ref = { apiVersion: "apps/v1", kind: "DaemonSet", namespace, name };
  await waitUntil(kc, ref, (objs) => daemonSetVerdict(objs[0]), `${describeRef(ref)} to be ready`, {
    defaultTimeoutMs: 300_000,
    ...opts,
  });
}

/**
 * At least `min` (default 1) pods match the label selector and all of them are Ready; with
 * `restarted`, those on its nodes also run containers started since then (after a node restarts, the
 * old status says Ready).
 */
export async function waitForPodsReady(
  kc: KubeConfig,
  namespace: string,
  labelSelector: string,
  opts: WaitOptions & { min?: number; restarted?: RestartedNodes } = {},
): Promise<KubeObject[]> {
  const query = { apiVersion: "v1", kind: "Pod", namespace, labelSelector };
  const what = `pods ${labelSelector} in ${namespace} to be Ready${opts.restarted?.nodes.length ? " again" : ""}`;
  return waitUntil(kc, query, (pods) => podsVerdict(pods, opts.min, opts.restarted), what, {
    defaultTimeoutMs: 300_000,
    ...opts,
  });
}

/** The named object has status condition `type` with `status` (default "True"). */
export async function waitForCondition(
  kc: KubeConfig,
  ref: ObjectRef & { name: string },
  type: string,
  status = "True",
  opts: WaitOptions = {},
): Promise<KubeObject> {
  const [obj] = await waitUntil(
    kc,
    ref,
    (objs) => conditionVerdict(objs[0], type, status),
    `${describeRef(ref)} to have ${type}=${status}`,
    {
      defaultTimeoutMs: 60_000,
      ...opts,
    },
  );
  return obj!;
}

/**
 * The named object exists and, when `check` is given, satisfies it. `check` may return a bare
 * boolean or a Verdict whose status explains what is still missing.
 */
export async function waitForObject(
  kc: KubeConfig,
  ref: ObjectRef & { name: string },
  opts: WaitOptions & { check?: (obj: KubeObject) => boolean | Verdict; describe?: string } = {},
): Promise<KubeObject> {
  const evaluate = (objs: KubeObject[]): Verdict => {
    const obj = objs[0];
    if (!obj) return { done: false, status: "not found" };
    if (!opts.check) return { done: true, status: "exists" };
    const result = opts.check(obj);
    return typeof result === "boolean" ? { done: result, status: result ? "as wanted" : "exists, but not as wanted yet" } : result;
  };
  const what = `${describeRef(ref)}${opts.describe ? ` ${opts.describe}` : " to exist"}`;
  const [obj] = await waitUntil(kc, ref, evaluate, what, { defaultTimeoutMs: 60_000, ...opts });
  return obj!;
}

/** Nothing matches any more: the named object, or every object of the kind with the labels. */
export async function waitForDeleted(kc: KubeConfig, ref: ObjectRef & { labelSelector?: string }, opts: WaitOptions = {}): Promise<void> {
  const what = ref.name
    ? `${describeRef(ref)} to be deleted`
    : `${describeRef(ref)}${ref.labelSelector ? ` with ${ref.labelSelector}` : ""} to be deleted`;
  await waitUntil(
    kc,
    ref,
    (objs) => ({
      done: objs.length === 0,
      status: objs.length === 0 ? "gone" : `still there: ${objs.map(stillThere).join(", ")}`,
    }),
    what,
    { defaultTimeoutMs: 120_000, ...opts, unservedIsEmpty: true },
  );
}

function stillThere(obj: KubeObject): string {
  const name = `${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata?.name}`;
  // A Namespace waits on spec.finalizers (its content being removed), other objects on metadata's.
  const finalizers = [
    ...((obj.metadata?.finalizers as string[] | undefined) ?? []),
    ...((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []),
  ];
  if (obj.metadata?.deletionTimestamp) {
    return `${name} (terminating${finalizers.length ? `, finalizers: ${finalizers.join(", ")}` : ""})`;
  }
  return name;
}
