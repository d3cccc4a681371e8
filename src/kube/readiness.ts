import type { KubeObject } from "./types.js";

/** Whether a wait is over, and the observed state in words for progress and timeout messages. */
export interface Verdict {
  done: boolean;
  status: string;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

function conditions(obj: KubeObject): Condition[] {
  const status = obj.status as { conditions?: Condition[] } | undefined;
  return Array.isArray(status?.conditions) ? status.conditions : [];
}

function num(value: unknown): number {
  return typeof value === "number" ? value : 0;
}

/** "Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)" */
export function describeCondition(obj: KubeObject, type: string): string {
  const c = conditions(obj).find((x) => x.type === type);
  if (!c) return `no ${type} condition yet`;
  const why = [c.reason, c.message].filter(Boolean).join(": ");
  return `${type}=${c.status}${why ? ` (${why})` : ""}`;
}

export function conditionVerdict(obj: KubeObject | undefined, type: string, status = "True"): Verdict {
  if (!obj) return { done: false, status: "not found" };
  const c = conditions(obj).find((x) => x.type === type);
  return { done: c?.status === status, status: describeCondition(obj, type) };
}

/** Whether the controller has seen the latest spec: older status says nothing about it. */
function observedLatest(obj: KubeObject): boolean {
  const status = (obj.status ?? {}) as { observedGeneration?: number };
  return num(status.observedGeneration) >= num(obj.metadata?.generation);
}

/**
 * A Deployment is available when its controller has seen the current spec, every replica runs
 * that spec, no old replica remains and all of them are available (what `kubectl rollout status`
 * checks).
 */
export function deploymentVerdict(obj: KubeObject | undefined): Verdict {
  if (!obj) return { done: false, status: "not found" };
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const s = (obj.status ?? {}) as Record<string, unknown>;
  const want = spec.replicas ?? 1;
  const updated = num(s.updatedReplicas);
  const total = num(s.replicas);
  const available = num(s.availableReplicas);
  const counts = `${available}/${want} replicas available, ${updated} up to date`;
  if (!observedLatest(obj)) return { done: false, status: `the controller has not observed the latest spec yet (${counts})` };
  const done = updated === want && total === want && available === want;
  return { done, status: `${counts}; ${describeCondition(obj, "Available")}` };
}

/** A DaemonSet is ready when every node that should run it runs the current spec, available. */
export function daemonSetVerdict(obj: KubeObject | undefined): Verdict {
  if (!obj) return { done: false, status: "not found" };
  const s = (obj.status ?? {}) as Record<string, unknown>;
  const desired = num(s.desiredNumberScheduled);
  const updated = num(s.updatedNumberScheduled);
  const available = num(s.numberAvailable);
  const status = `${available}/${desired} pods available, ${updated} up to date`;
  if (!observedLatest(obj)) return { done: false, status: `the controller has not observed the latest spec yet (${status})` };
  return { done: updated === desired && available === desired, status };
}

/** The pod's Ready condition is True. */
export function podReady(pod: KubeObject): boolean {
  return conditions(pod).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * Every container of the pod runs, started at or after `sinceMs`. After the nodes restart, a pod's
 * status still says what it was before until its kubelet writes it again, so Ready alone proves nothing.
 */
export function runningSince(pod: KubeObject, sinceMs: number): boolean {
  // The runtime's start times have whole seconds.
  const since = Math.floor(sinceMs / 1000) * 1000;
  const containers =
    (pod.status as { containerStatuses?: { state?: { running?: { startedAt?: string } } }[] } | undefined)?.containerStatuses ?? [];
  return containers.length > 0 && containers.every((c) => Date.parse(c.state?.running?.startedAt ?? "") >= since);
}

/** Nodes restarted at `sinceMs`: their pods' status says what it was before until their kubelets write it again. */
export interface RestartedNodes {
  nodes: readonly string[];
  sinceMs: number;
}

/** The Node a pod is bound to, if it is bound. */
export function podNodeName(pod: KubeObject): string | undefined {
  const name = (pod.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof name === "string" && name ? name : undefined;
}

/**
 * At least `min` pods, and every pod not being deleted is Ready; one on a `restarted` node also runs
 * containers started since then.
 */
export function podsVerdict(pods: readonly KubeObject[], min = 1, restarted?: RestartedNodes): Verdict {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const stale = (p: KubeObject) =>
    restarted !== undefined && restarted.nodes.includes(podNodeName(p) ?? "") && !runningSince(p, restarted.sinceMs);
  const notReady = live.filter((p) => !podReady(p) || stale(p));
  const ready = live.length - notReady.length;
  const detail = notReady
    .slice(0, 3)
    .map(
      (p) => `${p.metadata?.name}: ${(p.status as { phase?: string } | undefined)?.phase ?? "Unknown"}, ${describeCondition(p, "Ready")}`,
    );
  const status = `${ready}/${live.length} pods ready${live.length < min ? ` (want at least ${min})` : ""}${detail.length ? `; ${detail.join("; ")}` : ""}`;
  return { done: live.length >= min && notReady.length === 0, status };
}

/** With a name, that node is Ready; without, there is at least one node and all are Ready. */
export function nodesVerdict(nodes: readonly KubeObject[], name?: string): Verdict {
  if (name !== undefined) {
    const node = nodes.find((n) => n.metadata?.name === name);
    return node ? conditionVerdict(node, "Ready") : { done: false, status: `node ${name} has not registered` };
  }
  if (nodes.length === 0) return { done: false, status: "no node has registered" };
  const notReady = nodes.filter((n) => !conditions(n).some((c) => c.type === "Ready" && c.status === "True"));
  const status = notReady.length
    ? `${nodes.length - notReady.length}/${nodes.length} nodes ready; ${notReady.map((n) => `${n.metadata?.name}: ${describeCondition(n, "Ready")}`).join("; ")}`
    : `${nodes.length}/${nodes.length} nodes ready`;
  return { done: notReady.length === 0, status };
}
