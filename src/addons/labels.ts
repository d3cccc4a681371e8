/** Every object an addon creates carries both labels, so disabling it removes exactly its objects. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "kubeyard";
export const ADDON_LABEL = "kubeyard.dev/addon";

export function addonLabels(name: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [ADDON_LABEL]: name };
}

/** The label selector matching the objects of one addon and nothing else. */
export function addonSelector(name: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY},${ADDON_LABEL}=${name}`;
}
