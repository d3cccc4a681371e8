import type { ClusterConfig, NodeConfig } from "../config/index.js";

/**
 * The cluster-wide settings the components are rendered from. A ClusterConfig is one; tests and
 * callers that have no full config can give just these fields.
 */
export type ClusterSettings = Pick<ClusterConfig, "name" | "networking" | "featureGates" | "extraArgs" | "containerRuntime">;

/**
 * One node as it is once it exists: its config plus what only provisioning knows (its address,
 * its pod range, the cgroup it may manage).
 */
export interface NodeFacts extends Pick<NodeConfig, "name" | "role" | "labels" | "taints"> {
  /** The node's address on the cluster network: what the kubelet reports and peers dial. */
  ip: string;
  /**
   * The node's pod range, e.g. "10.244.1.0/24". The bridge CNI hands out addresses from it, so it
   * must equal the Node's spec.podCIDR (see {@link nodePodCIDR}).
   */
  podCIDR: string;
  /**
   * The cgroup under which the kubelet puts pods, e.g. "/kubeyard/dev-worker". Every node
   * container sees the host's cgroup tree, so each node needs its own root; it must exist (in
   * every v1 hierarchy) before the kubelet starts, the kubelet does not create it.
   */
  cgroupRoot: string;
  /**
   * The resolver file pods with dnsPolicy Default (CoreDNS among them) get. Docker's embedded DNS
   * (127.0.0.11) answers only inside the node's own network namespace, so the file given here must
   * name servers a pod can reach. Default "/etc/resolv.conf".
   */
  resolvConf?: string;
}

/** A node as the pod network sees it: where its pods' range is routed to. */
export interface PodNetworkPeer {
  name: string;
  ip: string;
  podCIDR: string;
}

export interface ControlPlaneMember {
  name: string;
  ip: string;
}

/** The ports the components listen on; every control-plane node uses the same ones. */
export interface ComponentPorts {
  etcdClient: number;
  etcdPeer: number;
  /** Plain-HTTP /metrics and /health of etcd, on 127.0.0.1 only. */
  etcdMetrics: number;
  apiServer: number;
}

export const DEFAULT_PORTS: Readonly<ComponentPorts> = Object.freeze({
  etcdClient: 2379,
  etcdPeer: 2380,
  etcdMetrics: 2381,
  apiServer: 6443,
});

/** Where things live on a node. Tests that run components as plain processes point these at temp dirs. */
export interface NodeLayout {
  /** The cluster PKI, laid out as in pkiPaths. */
  pkiDir: string;
  /** Kubeconfigs and component config files. */
  kubernetesDir: string;
  etcdDataDir: string;
  /** One file per component: its arguments, one per line, read by the component's runit service. */
  argsDir: string;
  cniConfDir: string;
  /** The kubelet's staticPodPath: a control-plane component runs once its manifest is here. */
  manifestsDir: string;
  /** Each static pod's manifest as written with the node's config, moved into manifestsDir when kubeyard starts it. */
  stagedManifestsDir: string;
}

export const DEFAULT_LAYOUT: Readonly<NodeLayout> = Object.freeze({
  pkiDir: "/etc/kubernetes/pki",
  kubernetesDir: "/etc/kubernetes",
  etcdDataDir: "/var/lib/etcd",
  argsDir: "/etc/kubeyard/args",
  cniConfDir: "/etc/cni/net.d",
  manifestsDir: "/etc/kubernetes/manifests",
  stagedManifestsDir: "/etc/kubeyard/manifests",
});

/** The images of the control plane's static pods (preloaded in the node image, named as upstream's). */
export interface StaticPodImages {
  etcd: string;
  "kube-apiserver": string;
  "kube-controller-manager": string;
  "kube-scheduler": string;
}

/** Everything a component's flags and files are rendered from, for one node. */
export interface ComponentContext {
  cluster: ClusterSettings;
  node: NodeFacts;
  /** Every control-plane node, in the same order everywhere (they are the etcd members). */
  controlPlanes: readonly ControlPlaneMember[];
  /**
   * The URL kubelets, kube-proxies and the in-node admin kubeconfig reach the API server at, e.g.
   * "https://172.18.0.2:6443". Its host must be a SAN of the API server certificate.
   */
  apiServerEndpoint: string;
  /** Every node of the cluster, this one included: the pod network routes to their pod ranges. */
  peers?: readonly PodNetworkPeer[];
  /** "new" when the cluster is created, "existing" for a member that joins a running etcd later. */
  etcdInitialClusterState?: "new" | "existing";
  ports?: Partial<ComponentPorts>;
  layout?: Partial<NodeLayout>;
  /** Needed to render a control-plane node's static pods. */
  images?: StaticPodImages;
}
