import yaml from "js-yaml";
import { pkiPaths, type CertKeyPaths } from "../pki/layout.js";
import { httpsURL } from "./args.js";
import { clusterCaFile, pathsOf, portsOf, type KubeconfigIdentity } from "./paths.js";
import type { ComponentContext } from "./types.js";

export interface KubeconfigSpec {
  clusterName: string;
  /** The user's name in the file; the identity itself is the certificate's. */
  userName: string;
  server: string;
  caFile: string;
  client: CertKeyPaths;
}

/**
 * A kubeconfig that refers to its CA, certificate and key by path rather than embedding them, so
 * a node's PKI files are the only copy of its secrets and re-issued certificates need no new
 * kubeconfigs.
 */
export function renderFileKubeconfig(spec: KubeconfigSpec): string {
  const context = `${spec.userName}@${spec.clusterName}`;
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: spec.clusterName, cluster: { server: spec.server, "certificate-authority": spec.caFile } }],
    users: [{ name: spec.userName, user: { "client-certificate": spec.client.cert, "client-key": spec.client.key } }],
    contexts: [{ name: context, context: { cluster: spec.clusterName, user: spec.userName } }],
    "current-context": context,
    preferences: {},
  };
  return yaml.dump(doc, { lineWidth: -1 });
}

/**
 * The kubeconfig of one identity on this node. The controller manager and scheduler talk to the
 * API server on their own node, so they keep working while another control plane is down; the
 * kubelet and admin use the cluster's endpoint.
 */
export function componentKubeconfig(ctx: ComponentContext, identity: KubeconfigIdentity): string {
  const paths = pathsOf(ctx);
  const local = httpsURL(ctx.node.ip, portsOf(ctx).apiServer);
  const spec = (userName: string, pair: CertKeyPaths, server: string): KubeconfigSpec => ({
    clusterName: ctx.cluster.name,
    userName,
    server,
    caFile: clusterCaFile(paths),
    client: paths.pkiPair(pair),
  });
  switch (identity) {
    case "admin":
      return renderFileKubeconfig(spec("kubernetes-admin", pkiPaths.admin, ctx.apiServerEndpoint));
    case "controller-manager":
      return renderFileKubeconfig(spec("system:kube-controller-manager", pkiPaths.controllerManager, local));
    case "scheduler":
      return renderFileKubeconfig(spec("system:kube-scheduler", pkiPaths.scheduler, local));
    case "kubelet":
      return renderFileKubeconfig(spec(`system:node:${ctx.node.name}`, pkiPaths.kubeletClient(ctx.node.name), ctx.apiServerEndpoint));
  }
}
