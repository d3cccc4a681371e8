/**
 * The labels that mark what kubeyard made. Everything the driver lists, and everything it is willing
 * to remove, is found through them, so a container, volume or network that merely shares a name with
 * a node is never touched.
 */
export const LABEL_CLUSTER = "dev.kubeyard.cluster";
export const LABEL_ROLE = "dev.kubeyard.role";
export const LABEL_NODE = "dev.kubeyard.node";

/** A Docker list filter matching what belongs to `cluster`, or to any kubeyard cluster. */
export function clusterFilter(cluster?: string): string {
  return cluster === undefined ? LABEL_CLUSTER : `${LABEL_CLUSTER}=${cluster}`;
}

export function isKubeyardNode(labels: Record<string, string> | undefined): boolean {
  return !!labels?.[LABEL_CLUSTER] && !!labels[LABEL_NODE];
}

/** Marks a container kubeyard runs outside any cluster (see ServiceStore); its value is the service's name. */
export const LABEL_SERVICE = "dev.kubeyard.service";
