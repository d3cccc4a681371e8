/**
 * Where each file of a cluster's PKI lives, relative to the PKI directory. Every other module
 * (components, kubeconfig, the cluster steps) names files through these helpers, never by hand.
 *
 *   ca.crt, ca.key                          cluster CA (signs API server, clients, kubelets)
 *   front-proxy-ca.crt, front-proxy-ca.key  front-proxy CA (aggregated API request headers)
 *   etcd/ca.crt, etcd/ca.key                etcd CA (etcd serving, peers, etcd clients)
 *   sa.key, sa.pub                          service-account token signing key pair
 *   apiserver.crt/.key                      kube-apiserver serving
 *   apiserver-kubelet-client.crt/.key       kube-apiserver -> kubelet
 *   apiserver-etcd-client.crt/.key          kube-apiserver -> etcd
 *   front-proxy-client.crt/.key             kube-apiserver -> aggregated API servers
 *   etcd/healthcheck-client.crt/.key        probes -> etcd
 *   etcd/<member>/server.crt/.key           etcd serving, one per control-plane node
 *   etcd/<member>/peer.crt/.key             etcd peer traffic, one per control-plane node
 *   identities/admin.crt/.key               kubernetes-admin (system:masters), for kubeconfigs
 *   identities/controller-manager.crt/.key  system:kube-controller-manager
 *   identities/scheduler.crt/.key           system:kube-scheduler
 *   nodes/<node>/kubelet-client.crt/.key    system:node:<node>, the kubelet's API credentials
 *   nodes/<node>/kubelet.crt/.key           the kubelet's serving certificate
 *
 * Keys are written 0600, certificates and sa.pub 0644, directories 0700.
 */

import { UserError } from "../util/errors.js";

export interface CertKeyPaths {
  cert: string;
  key: string;
}

function pair(base: string): CertKeyPaths {
  return { cert: `${base}.crt`, key: `${base}.key` };
}

export const pkiPaths = {
  ca: pair("ca"),
  frontProxyCa: pair("front-proxy-ca"),
  etcdCa: pair("etcd/ca"),
  serviceAccount: { key: "sa.key", pub: "sa.pub" },
  apiserver: pair("apiserver"),
  apiserverKubeletClient: pair("apiserver-kubelet-client"),
  apiserverEtcdClient: pair("apiserver-etcd-client"),
  frontProxyClient: pair("front-proxy-client"),
  etcdHealthcheckClient: pair("etcd/healthcheck-client"),
  etcdServer: (member: string) => pair(`etcd/${checkNodeName(member)}/server`),
  etcdPeer: (member: string) => pair(`etcd/${checkNodeName(member)}/peer`),
  admin: pair("identities/admin"),
  controllerManager: pair("identities/controller-manager"),
  scheduler: pair("identities/scheduler"),
  kubeletClient: (node: string) => pair(`nodes/${checkNodeName(node)}/kubelet-client`),
  kubeletServing: (node: string) => pair(`nodes/${checkNodeName(node)}/kubelet`),
} as const;

/**
 * Files that must never change once a cluster exists: replacing a CA breaks every certificate
 * and kubeconfig issued from it, and replacing the service-account key invalidates every token.
 */
export const rootMaterial: readonly string[] = [
  pkiPaths.ca.cert,
  pkiPaths.ca.key,
  pkiPaths.frontProxyCa.cert,
  pkiPaths.frontProxyCa.key,
  pkiPaths.etcdCa.cert,
  pkiPaths.etcdCa.key,
  pkiPaths.serviceAccount.key,
  pkiPaths.serviceAccount.pub,
];

/** The mode a PKI file is written with: private keys are for the owner only. */
export function fileMode(relativePath: string): number {
  return relativePath.endsWith(".key") ? 0o600 : 0o644;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Node names become Kubernetes Node names (in system:node:<name>) and directory names here, so
 * they must be RFC 1123 subdomains: that also rules out "..", "/" and anything else a path could
 * be tricked with.
 */
export function checkNodeName(name: string): string {
  if (name.length > 253 || !NODE_NAME.test(name)) {
    throw new UserError(
      `invalid node name "${name}"`,
      "use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (at most 253 characters)",
    );
  }
  return name;
}

/**
 * A cluster's PKI in memory: paths relative to the PKI directory (as in {@link pkiPaths}) mapped
 * to PEM text. A partial bundle (one node's files, say) is written the same way as a full one.
 */
export type PkiBundle = Record<string, string>;
