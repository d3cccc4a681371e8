import type { ClusterConfig, NodeConfig } from "../config/index.js";
import { bitsOf, formatIP, parseCIDR } from "../config/ip.js";
import { nthAddress } from "./addresses.js";
import { nodePodCIDR, type ComponentContext, type NodeFacts, type StaticPodImages } from "../components/index.js";
import { imageRefs, type ComponentVersions } from "../versions/versions.js";
import type { ClusterState } from "./state.js";

/** Where a node sits in the cluster: its static address on the cluster network and its pod range. */
export interface PlacedNode {
  config: NodeConfig;
  ip: string;
  podCIDR: string;
}

/** The container in front of the API servers of a cluster with more than one control plane. */
export interface LoadBalancer {
  name: string;
  ip: string;
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

/** A cluster with more than one control plane reaches its API servers through a load balancer. */
export function needsLoadBalancer(config: Pick<ClusterConfig, "nodes">): boolean {
  return config.nodes.filter((n) => n.role === "control-plane").length > 1;
}

export function loadBalancerName(cluster: string): string {
  return `${cluster}-external-load-balancer`;
}

/**
 * The load balancer takes the last usable address of the cluster network, far from the nodes'
 * addresses, which count up from the start as nodes are added.
 */
export function placeLoadBalancer(cluster: string, subnet: string): LoadBalancer {
  const parsed = parseCIDR(subnet);
  if (!parsed.ok) throw new Error(`${subnet}: ${parsed.problem}`);
  const { family, base, prefix } = parsed.cidr;
  const size = 1n << BigInt(bitsOf(family) - prefix);
  return { name: loadBalancerName(cluster), ip: formatIP({ family, value: base + size - 2n }) };
}

/** The address kubelets and in-node clients use for the API server: the load balancer's, else the first control plane's. */
export function apiServerEndpoint(placed: PlacedNode[], loadBalancer?: LoadBalancer): string {
  if (loadBalancer) return `https://${hostOf(loadBalancer.ip)}:6443`;
  const cp = placed.find((p) => p.config.role === "control-plane");
  if (!cp) throw new Error("a cluster needs a control-plane node");
  return `https://${hostOf(cp.ip)}:6443`;
}

function hostOf(ip: string): string {
  return ip.includes(":") ? `[${ip}]` : ip;
}

export function componentContext(
  config: ClusterConfig,
  placed: PlacedNode[],
  node: PlacedNode,
  loadBalancer?: LoadBalancer,
): ComponentContext {
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
    peers: placed.map((p) => ({ name: p.config.name, ip: p.ip, podCIDR: p.podCIDR })),
    apiServerEndpoint: apiServerEndpoint(placed, loadBalancer),
    images: staticPodImages(config.versions),
  };
}

/** The control plane's images for a release, as the node image preloads them. */
export function staticPodImages(v: ComponentVersions): StaticPodImages {
  const refs = imageRefs(v);
  return {
    etcd: refs.etcd,
    "kube-apiserver": refs.kubeApiserver,
    "kube-controller-manager": refs.kubeControllerManager,
    "kube-scheduler": refs.kubeScheduler,
  };
}

/**
 * The nodes as the state records them. States written before nodes kept their pod range are
 * placed by their order, as they were when created.
 */
export function placedFromState(state: ClusterState): PlacedNode[] {
  const byOrder = placeNodes(state.config, state.network.subnet);
  return state.nodes.map((n, i) => {
    const config = state.config.nodes.find((c) => c.name === n.name);
    if (!config) throw new Error(`node ${n.name} is in the cluster state but not in its config`);
    return { config, ip: n.ip, podCIDR: n.podCIDR ?? byOrder[i]!.podCIDR };
  });
}
