import type { ClusterConfig, NodeConfig } from "../config/index.js";
import { nthAddress } from "./addresses.js";
import { nodePodCIDR, type ComponentContext, type NodeFacts } from "../components/index.js";
import type { ClusterState } from "./state.js";

/** Where a node sits in the cluster: its static address on the cluster network and its pod range. */
export interface PlacedNode {
  config: NodeConfig;
  ip: string;
  podCIDR: string;
}

/**
 * Gives node i the address .(i+2) of the cluster network (the gateway is .1) and pod range number
 * i. Both are fixed for the node's life, so certificates and routes stay valid across restarts.
 */
export function placeNodes(config: ClusterConfig, subnet: string): PlacedNode[] {
  return config.nodes.map((n, i) => ({
    config: n,
    ip: nthAddress(subnet, i + 2),
    podCIDR: nodePodCIDR(config.networking.podSubnet, config.networking.nodeCidrMaskSize, i),
  }));
}

/** The address kubelets and in-node clients use for the API server. */
export function apiServerEndpoint(placed: PlacedNode[]): string {
  const cp = placed.find((p) => p.config.role === "control-plane");
  if (!cp) throw new Error("a cluster needs a control-plane node");
  return `https://${cp.ip}:6443`;
}

export function componentContext(config: ClusterConfig, placed: PlacedNode[], node: PlacedNode): ComponentContext {
  const facts: NodeFacts = {
    name: node.config.name,
    role: node.config.role,
    labels: node.config.labels,
    taints: node.config.taints,
    ip: node.ip,
    podCIDR: node.podCIDR,
    // setup-cgroups in the node image makes /kubelet inside each node's own cgroup.
    cgroupRoot: "/kubelet",
    // Written by setup-dns in the node image: upstream servers a pod can reach.
    resolvConf: "/etc/kubeyard/resolv.conf",
  };
  return {
    cluster: config,
    node: facts,
    controlPlanes: placed.filter((p) => p.config.role === "control-plane").map((p) => ({ name: p.config.name, ip: p.ip })),
    apiServerEndpoint: apiServerEndpoint(placed),
  };
}

export function placedFromState(state: ClusterState): PlacedNode[] {
  return placeNodes(state.config, state.network.subnet);
}
