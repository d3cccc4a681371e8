import type { ContainerRuntime } from "./schema.js";

/**
 * What a field is when neither the file nor a flag sets it. The subnets are kind's and kubeadm's,
 * so addresses look familiar; the API server is published on loopback only (secure by default).
 */
export const DEFAULT_PROFILE = "kubeyard";
export const DEFAULT_DNS_DOMAIN = "cluster.local";
export const DEFAULT_API_SERVER_ADDRESS = "127.0.0.1";
/** 0 asks for a free port when the node is created. */
export const DEFAULT_API_SERVER_PORT = 0;
export const DEFAULT_LISTEN_ADDRESS = "127.0.0.1";
export const DEFAULT_CONTAINER_RUNTIME = "containerd";

/** The runtime a cluster's nodes run: the one its config chose, else (or with no config on record) containerd. */
export function nodeRuntime(config: { readonly containerRuntime: ContainerRuntime | null } | undefined): ContainerRuntime {
  return config?.containerRuntime ?? DEFAULT_CONTAINER_RUNTIME;
}

/** Per address family, so that setting only one subnet to IPv6 gives an IPv6 default for the other. */
export const DEFAULT_SUBNETS = {
  4: { pod: "10.244.0.0/16", service: "10.96.0.0/12" },
  6: { pod: "fd00:10:244::/56", service: "fd00:10:96::/112" },
} as const;

/**
 * The range each node gets out of the pod subnet (kube-controller-manager --node-cidr-mask-size),
 * the same as Kubernetes' own defaults. The controller manager refuses a pod subnet more than 16
 * bits shorter than this, which bounds the pod subnet prefixes accepted.
 */
export const NODE_CIDR_MASK_SIZE = { 4: 24, 6: 64 } as const;
export const MAX_NODE_CIDR_BITS = 16;

/**
 * Service ranges: the API server's allocator refuses more than 20 host bits, and the DNS service
 * takes the 10th address, so a range needs at least 4 host bits.
 */
export const SERVICE_HOST_BITS = { min: 4, max: 20 } as const;
/** The DNS service's address within the service range, as kubeadm and kind place it. */
export const DNS_SERVICE_OFFSET = 10;
