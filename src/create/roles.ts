import type { NodeRole } from "../drivers/types.js";

/** The runit services of the control plane, in the order they come up: etcd first, then the rest. */
export const ETCD_SERVICES = ["etcd"] as const;
export const CONTROL_PLANE_SERVICES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
/** What every Kubernetes node runs, control planes included. */
export const NODE_SERVICES = ["kubelet", "kube-proxy"] as const;

/** Every service a node of a role runs, in start order. */
export function servicesOf(role: Exclude<NodeRole, "load-balancer">): string[] {
  return role === "control-plane" ? [...ETCD_SERVICES, ...CONTROL_PLANE_SERVICES, ...NODE_SERVICES] : [...NODE_SERVICES];
}
