/** What kubeyard puts in a kubeconfig for one profile. */
export interface KubeconfigEntry {
  /** Name of the cluster, the user and the context alike (kubeyard uses the profile name). */
  name: string;
  /** API server URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** PEM of the cluster CA (like client-go's rest.Config.CAData); embedded base64-encoded. */
  caData: string | Uint8Array;
  /** PEM of the client certificate; embedded base64-encoded. */
  certData: string | Uint8Array;
  /** PEM of the client key; embedded base64-encoded. */
  keyData: string | Uint8Array;
  /** Default namespace of the context; left out when unset. */
  namespace?: string;
}

/** A kubeconfig `extensions` list: [{name, extension}] on a cluster, user or context. */
export type Extensions = Array<{ extension: Record<string, unknown>; name: string }>;

// Keys are in the order kubectl writes them (sorted), so a file kubectl rewrites later does
// not show kubeyard's entries as changed.

export function clusterItem(entry: KubeconfigEntry, extensions?: Extensions): Record<string, unknown> {
  return {
    cluster: {
      "certificate-authority-data": base64(entry.caData),
      ...(extensions ? { extensions } : {}),
      server: entry.server,
    },
    name: entry.name,
  };
}

export function userItem(entry: KubeconfigEntry, extensions?: Extensions): Record<string, unknown> {
  return {
    name: entry.name,
    user: {
      "client-certificate-data": base64(entry.certData),
      "client-key-data": base64(entry.keyData),
      ...(extensions ? { extensions } : {}),
    },
  };
}

export function contextItem(entry: KubeconfigEntry, extensions?: Extensions): Record<string, unknown> {
  return {
    context: {
      cluster: entry.name,
      ...(extensions ? { extensions } : {}),
      ...(entry.namespace ? { namespace: entry.namespace } : {}),
      user: entry.name,
    },
    name: entry.name,
  };
}

function base64(pem: string | Uint8Array): string {
  return Buffer.from(pem).toString("base64");
}
