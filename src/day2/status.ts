import { HttpMethod } from "@kubernetes/client-node";
import type { AddonPorts } from "../config/addon-ports.js";
import { nodeRuntime } from "../config/index.js";
import { runtimeVersion, type RuntimeVersion } from "../node/runtime/index.js";
import type { NodeDriver, NodeState } from "../drivers/types.js";
import { objectApi } from "../kube/object-api.js";
import { loadPki } from "../pki/store.js";
import { adminClient } from "../cluster/api.js";
import { hostServerURL } from "../cluster/addresses.js";
import { pkiDir, readState } from "../cluster/state.js";

export type Health = "ok" | "failing" | "stopped" | "paused" | "n/a";

export interface NodeStatus {
  name: string;
  role: string;
  container: NodeState;
  /** The node's CRI runtime and its version; null for the load balancer. */
  runtime: RuntimeVersion | null;
  kubelet: Health;
  apiserver: Health;
  etcd: Health;
}

export interface ClusterStatus {
  profile: string;
  exists: boolean;
  running: boolean;
  /** Every node frozen by `kubeyard pause`. */
  paused: boolean;
  server?: string;
  kubernetesVersion?: string;
  addons: string[];
  /** Host ports (on 127.0.0.1) of the ingress and registry addons, published whether enabled or not. */
  addonPorts?: AddonPorts;
  nodes: NodeStatus[];
}

/** Asks each node's components directly: the kubelet's and etcd's health endpoints, the API server's /readyz. */
export async function clusterStatus(driver: NodeDriver, name: string): Promise<ClusterStatus> {
  const state = await readState(name);
  const nodes = await driver.listNodes(name);
  if (!state && !nodes.length) return { profile: name, exists: false, running: false, paused: false, addons: [], nodes: [] };
  const paused = nodes.length > 0 && nodes.every((n) => n.state === "paused");
  const runtime = nodeRuntime(state?.config);
  const apiserverOk = state && !paused ? await apiReady(state) : false;
  const statuses = await Promise.all(
    nodes.map(async (n): Promise<NodeStatus> => {
      const running = n.state === "running";
      const cp = n.role === "control-plane";
      const idle: Health = n.state === "paused" ? "paused" : "stopped";
      const lb = n.role === "load-balancer";
      const probe = async (url: string): Promise<Health> => {
        if (!running) return idle;
        const r = await driver.exec(n.name, ["curl", "-fsS", "--max-time", "3", url]).catch(() => undefined);
        return r?.exitCode === 0 ? "ok" : "failing";
      };
      return {
        name: n.name,
        role: n.role,
        container: n.state,
        runtime: lb ? null : await runtimeVersion(driver, n.name, runtime, running),
        kubelet: lb ? "n/a" : await probe("http://127.0.0.1:10248/healthz"),
        etcd: cp ? await probe("http://127.0.0.1:2381/health") : "n/a",
        // The load balancer's column: whether the API answers through it.
        apiserver: cp || lb ? (running ? (apiserverOk ? "ok" : "failing") : idle) : "n/a",
      };
    }),
  );
  const running =
    statuses.length > 0 &&
    statuses.every((s) => s.container === "running" && s.kubelet !== "failing" && s.kubelet !== "stopped" && s.etcd !== "failing") &&
    apiserverOk;
  return {
    profile: name,
    exists: true,
    running,
    paused,
    server: state ? hostServerURL(state) : undefined,
    kubernetesVersion: state?.config.kubernetesVersion,
    addons: state?.addons ?? [],
    ...(state?.addonPorts ? { addonPorts: state.addonPorts } : {}),
    nodes: statuses,
  };
}

async function apiReady(state: NonNullable<Awaited<ReturnType<typeof readState>>>): Promise<boolean> {
  try {
    const kc = adminClient(state, await loadPki(pkiDir(state.name)));
    const res = await objectApi(kc).send(HttpMethod.GET, "/readyz", { signal: AbortSignal.timeout(3000) });
    return res.text.trim() === "ok";
  } catch {
    return false;
  }
}
