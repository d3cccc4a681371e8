/**
 * Which node labels a kubelet may set on its own Node. The kubelet refuses to start with a
 * --node-labels entry in the kubernetes.io or k8s.io namespaces unless it is one of a few
 * well-known keys or under kubelet.kubernetes.io / node.kubernetes.io (and NodeRestriction would
 * reject it anyway). Such labels, node-role.kubernetes.io/control-plane among them, have to be
 * applied through the API with an admin identity instead.
 */

const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
]);

const KUBELET_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

function namespaceOf(key: string): string {
  const slash = key.indexOf("/");
  return slash < 0 ? "" : key.slice(0, slash);
}

function inDomain(namespace: string, domain: string): boolean {
  return namespace === domain || namespace.endsWith(`.${domain}`);
}

/** Whether the kubelet may register its node with this label key. */
export function kubeletMaySetLabel(key: string): boolean {
  const namespace = namespaceOf(key);
  const reserved = inDomain(namespace, "kubernetes.io") || inDomain(namespace, "k8s.io");
  if (!reserved) return true;
  return KUBELET_LABELS.has(key) || KUBELET_NAMESPACES.some((d) => inDomain(namespace, d));
}

/** Splits labels into those the kubelet registers itself and those an admin must apply. */
export function splitNodeLabels(labels: Readonly<Record<string, string>>): {
  kubelet: Record<string, string>;
  viaApi: Record<string, string>;
} {
  const kubelet: Record<string, string> = {};
  const viaApi: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    (kubeletMaySetLabel(key) ? kubelet : viaApi)[key] = value;
  }
  return { kubelet, viaApi };
}
