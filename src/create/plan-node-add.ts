import { CONTROL_PLANE_ROLE_LABEL, describeMount, type Mount, type NodeConfig } from "../config/index.js";
import { nodePodCIDR } from "../components/index.js";
import { nthAddress } from "../cluster/addresses.js";
import { writeClusterKubeconfig } from "../cluster/kubeconfig-entry.js";
import { refreshPodNetwork, writeLoadBalancerConfig } from "../node/pod-network.js";
import { CONTROL_PLANE_TAINT, etcdMemberId, setControlPlaneTaint, withNodes } from "../cluster/membership.js";
import { writeState, type ClusterState } from "../cluster/state.js";
import { placedFromState, type PlacedNode } from "../cluster/topology.js";
import type { NodeDriver } from "../drivers/types.js";
import { etcdctl } from "../node/etcdctl.js";
import { nodeKubectl } from "../node/kubectl.js";
import { UserError } from "../util/errors.js";
import type { Action, Plan } from "./action.js";
import type { ClusterContext } from "./context.js";
import { requireEtcdHealthy } from "./etcd-health.js";
import { provisionActions } from "./provision.js";

export type AddableRole = "worker" | "control-plane";

type A = Action<ClusterContext>;

export interface NodeAddPlan extends Plan<ClusterContext> {
  /** The node the plan adds. */
  node: PlacedNode;
  /** The cluster's state with the node in it (what the context starts from). */
  state: ClusterState;
  /** Undoes a node add that failed part-way: etcd membership, Node object, container, routes. */
  undo: (ctx: ClusterContext) => Promise<void>;
}

/**
 * Adds a node to a running cluster: the next free name, address and pod range; provisioned and
 * joined as `start` provisions every node; given the enabled addons' images and files; a control
 * plane also joins etcd (only while every member is healthy) and the load balancer. The first worker
 * taints the control planes, as a cluster created with workers has them.
 */
export function planNodeAdd(state: ClusterState, role: AddableRole): NodeAddPlan {
  if (role === "control-plane" && !state.loadBalancer) {
    throw new UserError(
      `cluster "${state.name}" has a single control plane with no load balancer in front of it, so it cannot take another control plane.`,
      "Create the cluster with --control-planes 2 or more (they get a load balancer), then `kubeyard node add --role control-plane` adds more.",
    );
  }
  const placed = placedFromState(state);
  const fresh = nextNode(state, role, placed);
  const next: ClusterState = {
    ...state,
    config: withNodes(state.config, [...state.config.nodes, fresh.config]),
    nodes: [...state.nodes, { name: fresh.config.name, role, ip: fresh.ip, podCIDR: fresh.podCIDR }],
  };
  const firstWorker = role === "worker" && !placed.some((p) => p.config.role === "worker");
  const actions: A[] = [
    ...(role === "control-plane" ? [etcdPreflight()] : []),
    {
      name: "record",
      title: `record ${fresh.config.name}`,
      detail: [`record ${fresh.config.name} (${fresh.ip}, pods ${fresh.podCIDR}) before its container exists, so delete finds it`],
      run: async () => writeState(next),
    },
    ...withAddonsBeforeKubelet(provisionActions("join", [fresh.config])),
    ...(role === "control-plane" ? [loadBalancerAction()] : []),
    ...(firstWorker ? [taintAction()] : []),
  ];
  return {
    kind: "node-add",
    summary: `add ${role} ${fresh.config.name} to cluster "${state.name}"`,
    actions,
    node: fresh,
    state: next,
    undo: (ctx) => removeQuietly(ctx.driver, state, fresh),
  };
}

/** The addons' images and files go onto the node before its kubelet starts (a control plane's starts before etcd). */
function withAddonsBeforeKubelet(actions: A[]): A[] {
  const at = actions.findIndex((a) => a.name === "control-plane-kubelet" || a.name === "kubelet");
  return [...actions.slice(0, at), addonsAction(), ...actions.slice(at)];
}

function etcdPreflight(): A {
  return {
    name: "etcd-health",
    title: "etcd health",
    detail: ["every etcd member is healthy, or refuse before changing anything"],
    run: (ctx, progress) =>
      requireEtcdHealthy(
        ctx,
        ctx.controlPlanes.filter((p) => !ctx.targets.includes(p)),
        progress,
      ),
  };
}

function addonsAction(): A {
  return {
    name: "addons",
    title: "addons",
    detail: ["give the new node the enabled addons' images and node files"],
    run: (ctx, progress) => ctx.deps.prepareNodesForAddons(ctx.config.name, progress),
  };
}

function loadBalancerAction(): A {
  return {
    name: "load-balancer",
    title: "load balancer",
    detail: ["put the new API server behind the load balancer", "refresh the kubeconfig entry"],
    run: async (ctx) => {
      if (ctx.loadBalancer) await writeLoadBalancerConfig(ctx.driver, ctx.loadBalancer, ctx.nodes);
      if (ctx.state.kubeconfigPath) await writeClusterKubeconfig(ctx.state, ctx.pki);
    },
  };
}

function taintAction(): A {
  return {
    name: "taint",
    title: "control-plane taint",
    detail: ["the control planes get the NoSchedule taint, as a cluster created with workers has them"],
    run: (ctx) => setControlPlaneTaint(ctx.driver, ctx.state, true),
  };
}

/** The next node of a role: the first free name, the lowest free address and pod range. */
function nextNode(state: ClusterState, role: AddableRole, placed: PlacedNode[]): PlacedNode {
  const names = new Set(placed.map((p) => p.config.name));
  let n = 1;
  const nameOf = (i: number) => `${state.name}-${role}${i > 1 ? i : ""}`;
  while (names.has(nameOf(n))) n++;
  const ips = new Set([...placed.map((p) => p.ip), ...(state.loadBalancer ? [state.loadBalancer.ip] : []), state.network.gateway]);
  let a = 2;
  while (ips.has(nthAddress(state.network.subnet, a))) a++;
  const ip = nthAddress(state.network.subnet, a);
  if (state.loadBalancer && ip === state.loadBalancer.ip)
    throw new UserError(`the cluster network ${state.network.subnet} has no free address left for another node`);
  const ranges = new Set(placed.map((p) => p.podCIDR));
  const { podSubnet, nodeCidrMaskSize } = state.config.networking;
  let r = 0;
  while (ranges.has(nodePodCIDR(podSubnet, nodeCidrMaskSize, r))) r++;
  const hasWorkers = role === "worker" || placed.some((p) => p.config.role === "worker");
  const config: NodeConfig = {
    name: nameOf(n),
    role,
    image: state.config.nodeImage,
    labels: role === "control-plane" ? { [CONTROL_PLANE_ROLE_LABEL]: "" } : {},
    taints: role === "control-plane" && hasWorkers ? [CONTROL_PLANE_TAINT] : [],
    extraPortMappings: [],
    extraMounts: sharedMounts(placed),
  };
  return { config, ip, podCIDR: nodePodCIDR(podSubnet, nodeCidrMaskSize, r) };
}

/** The mounts every node has (what `start --mount` gives), which a new node gets too; a mount of some nodes only stays theirs. */
function sharedMounts(placed: readonly PlacedNode[]): Mount[] {
  const [first, ...rest] = placed.map((p) => p.config.extraMounts);
  return (first ?? []).filter((m) => rest.every((ms) => ms.some((o) => describeMount(o) === describeMount(m)))).map((m) => ({ ...m }));
}

async function removeQuietly(driver: NodeDriver, state: ClusterState, fresh: PlacedNode): Promise<void> {
  const operator = state.config.nodes.find((n) => n.role === "control-plane")?.name;
  if (!operator) return;
  if (fresh.config.role === "control-plane") {
    const id = await etcdMemberId(driver, operator, fresh).catch(() => undefined);
    if (id) await etcdctl(driver, operator, ["member", "remove", id]).catch(() => undefined);
  }
  await nodeKubectl(driver, operator, ["delete", "node", fresh.config.name, "--ignore-not-found", "--wait=false"]).catch(() => undefined);
  await driver.removeNode(fresh.config.name).catch(() => undefined);
  await writeState(state).catch(() => undefined);
  const running = new Set((await driver.listNodes(state.name).catch(() => [])).map((n) => n.name));
  await refreshPodNetwork(driver, state.config, placedFromState(state), running, state.loadBalancer).catch(() => undefined);
}
