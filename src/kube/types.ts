/**
 * Kubernetes objects as plain JSON, the way the API server sends them and js-yaml parses them.
 * kubeyard never uses client-node's generated model classes for objects: their serializer maps
 * field names (`x-kubernetes-*`, `default`, `enum`, `from`, ...) and drops what it does not know,
 * which would silently lose parts of a manifest.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  deletionTimestamp?: string;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** A kind as the API knows it: what a list, a watch or a delete-by-label goes over. */
export interface KindRef {
  apiVersion: string;
  kind: string;
}

/** One object, or (without a name) a kind in one namespace, or everywhere when namespace is unset. */
export interface ObjectRef extends KindRef {
  namespace?: string;
  name?: string;
}

/** "Deployment kube-system/coredns", "StorageClass standard": how objects are named in messages. */
export function describeRef(ref: Partial<ObjectRef>): string {
  const where = ref.namespace ? `${ref.namespace}/` : "";
  return ref.name ? `${ref.kind} ${where}${ref.name}` : `${ref.kind} objects${ref.namespace ? ` in ${ref.namespace}` : ""}`;
}

export function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion ?? "v1",
    kind: obj.kind ?? "",
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
  };
}
