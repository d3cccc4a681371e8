import type { NodeDriver } from "../drivers/types.js";
import { nodeRuntime } from "../config/index.js";
import { etcdctl } from "../node/etcdctl.js";
import { runtimeVersion, type RuntimeVersion } from "../node/runtime/index.js";
import { nodeKubectl } from "../node/kubectl.js";
import { UserError } from "../util/errors.js";
import { runningNodes } from "../cluster/running-nodes.js";
import { etcdMemberId, setControlPlaneTaint, withNodes } from "../cluster/membership.js";
import { refreshPodNetwork, writeLoadBalancerConfig } from "../node/pod-network.js";
import { requireReadyState, writeState, type ClusterState } from "../cluster/state.js";
import { placedFromState } from "../cluster/topology.js";

export interface NodeRow {
  name: string;
  role: string;
  container: string;
  /** The node's CRI runtime and its version; null for the load balancer. */
  runtime: RuntimeVersion | null;
  ip: string;
  podCIDR: string;
}

/** The cluster's nodes as its state and the engine see them, the load balancer included. */
export async function listClusterNodes(driver: NodeDriver, profile: string): Promise<NodeRow[]> {
  const state = await requireReadyState(profile);
  const engine = new Map((await driver.listNodes(profile)).map((n) => [n.name, n]));
  const runtime = nodeRuntime(state.config);
  const rows: NodeRow[] = await Promise.all(
    placedFromState(state).map(async (p) => {
      const container = engine.get(p.config.name)?.state ?? "missing";
      return {
        name: p.config.name,
        role: p.config.role,
        container,
        runtime: await runtimeVersion(driver, p.config.name, runtime, container === "running"),
        ip: p.ip,
        podCIDR: p.podCIDR,
      };
    }),
  );
  if (state.loadBalancer) {
    const lb = state.loadBalancer;
    const container = engine.get(lb.name)?.state ?? "missing";
    rows.push({ name: lb.name, role: "load-balancer", container, runtime: null, ip: lb.ip, podCIDR: "" });
  }
  return rows;
}

/**
 * Removes a node from a running cluster: drained first (its pods evicted, DaemonSets' left), its
 * Node object and container deleted, its pod range unrouted everywhere. A control plane also
 * leaves etcd and the load balancer; the last control plane cannot be removed. When the last
 * worker goes, the control planes lose their NoSchedule taint so pods can run again.
 */
export async function deleteClusterNode(driver: NodeDriver, profile: string, name: string): Promise<void> {
  const state = await requireReadyState(profile);
  const placed = placedFromState(state);
  const target = placed.find((p) => p.config.name === name);
  if (!target) {
    const known = [...placed.map((p) => p.config.name), ...(state.loadBalancer ? [state.loadBalancer.name] : [])];
    if (state.loadBalancer?.name === name) {
      throw new UserError(
        `${name} is the cluster's API load balancer, not a node that can be deleted.`,
        `The nodes are: ${placed.map((p) => p.config.name).join(", ")}.`,
      );
    }
    throw new UserError(`cluster "${profile}" has no node named "${name}".`, `Its nodes are: ${known.join(", ")}.`);
  }
  const cps = placed.filter((p) => p.config.role === "control-plane");
  if (target.config.role === "control-plane" && cps.length === 1) {
    throw new UserError(
      `${name} is the cluster's only control plane, so it cannot be deleted.`,
      `Delete the whole cluster with \`kubeyard delete -p ${profile}\`.`,
    );
  }
  const engineNodes = await runningNodes(driver, profile);
  const remaining = placed.filter((p) => p !== target);
  const operator = remaining.find((p) => p.config.role === "control-plane")!;

  await nodeKubectl(driver, operator.config.name, [
    "drain",
    name,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--force",
    "--grace-period=30",
    "--timeout=300s",
  ]);
  if (target.config.role === "control-plane") {
    if (state.loadBalancer) await writeLoadBalancerConfig(driver, state.loadBalancer, remaining);
    const id = await etcdMemberId(driver, operator.config.name, target);
    if (id) await etcdctl(driver, operator.config.name, ["member", "remove", id]);
  }
  await nodeKubectl(driver, operator.config.name, ["delete", "node", name, "--ignore-not-found", "--wait=false"]);
  await driver.removeNode(name);
  // What the drain left (DaemonSet pods, mirror pods) would otherwise linger until the pod garbage
  // collector notices the node is gone; with the container removed nothing runs them any more.
  await nodeKubectl(driver, operator.config.name, [
    "delete",
    "pods",
    "--all-namespaces",
    "--field-selector",
    `spec.nodeName=${name}`,
    "--force",
    "--grace-period=0",
    "--wait=false",
  ]);
  const next: ClusterState = {
    ...state,
    config: withNodes(
      state.config,
      state.config.nodes.filter((n) => n.name !== name),
    ),
    nodes: state.nodes.filter((n) => n.name !== name),
  };
  await writeState(next);
  const running = new Set(engineNodes.map((n) => n.name).filter((n) => n !== name));
  await refreshPodNetwork(driver, next.config, remaining, running, state.loadBalancer);
  if (target.config.role === "worker" && !remaining.some((p) => p.config.role === "worker")) {
    await setControlPlaneTaint(driver, next, false);
  }
}
