import { parseIP } from "../config/ip.js";
import { pkiPaths } from "../pki/layout.js";
import { featureGatesFlag, httpsURL, renderArgs, type Flags } from "./args.js";
import { thisMember } from "./control-plane-member.js";
import { clusterCaFile, pathsOf, portsOf } from "./paths.js";
import type { ComponentContext } from "./types.js";

/** The service-account token issuer: the in-cluster name of the API server. */
export function serviceAccountIssuer(dnsDomain: string): string {
  return `https://kubernetes.default.svc.${dnsDomain}`;
}

/**
 * kube-apiserver's flags. It talks to the etcd member on its own node (stacked etcd, as kubeadm
 * does), authenticates clients by the cluster CA, and verifies kubelets' serving certificates
 * because kubeyard issues those from the cluster CA too. The front-proxy flags let aggregated API
 * servers (metrics-server) trust the user names the API server forwards.
 */
export function kubeApiserverArgs(ctx: ComponentContext): string[] {
  const me = thisMember(ctx);
  const ports = portsOf(ctx);
  const paths = pathsOf(ctx);
  const { networking } = ctx.cluster;
  const serving = paths.pkiPair(pkiPaths.apiserver);
  const kubeletClient = paths.pkiPair(pkiPaths.apiserverKubeletClient);
  const etcdClient = paths.pkiPair(pkiPaths.apiserverEtcdClient);
  const proxyClient = paths.pkiPair(pkiPaths.frontProxyClient);
  const ca = clusterCaFile(paths);

  const flags: Flags = [
    ["advertise-address", me.ip],
    ["secure-port", String(ports.apiServer)],
    ["tls-cert-file", serving.cert],
    ["tls-private-key-file", serving.key],
    ["client-ca-file", ca],
    ["etcd-servers", httpsURL("127.0.0.1", ports.etcdClient)],
    ["etcd-cafile", paths.pki(pkiPaths.etcdCa.cert)],
    ["etcd-certfile", etcdClient.cert],
    ["etcd-keyfile", etcdClient.key],
    ["authorization-mode", "Node,RBAC"],
    ["enable-admission-plugins", "NodeRestriction"],
    ["allow-privileged", "true"],
    // Every caller kubeyard makes has a certificate; unauthenticated requests get 401, not a
    // system:anonymous identity that the next RBAC mistake could grant something.
    ["anonymous-auth", "false"],
    ["profiling", "false"],
    ["service-cluster-ip-range", networking.serviceSubnet],
    ["service-account-issuer", serviceAccountIssuer(networking.dnsDomain)],
    ["service-account-key-file", paths.pki(pkiPaths.serviceAccount.pub)],
    ["service-account-signing-key-file", paths.pki(pkiPaths.serviceAccount.key)],
    ["kubelet-client-certificate", kubeletClient.cert],
    ["kubelet-client-key", kubeletClient.key],
    ["kubelet-certificate-authority", ca],
    ["kubelet-preferred-address-types", "InternalIP,Hostname"],
    ["requestheader-client-ca-file", paths.pki(pkiPaths.frontProxyCa.cert)],
    ["requestheader-allowed-names", "front-proxy-client"],
    ["requestheader-username-headers", "X-Remote-User"],
    ["requestheader-group-headers", "X-Remote-Group"],
    ["requestheader-extra-headers-prefix", "X-Remote-Extra-"],
    ["proxy-client-cert-file", proxyClient.cert],
    ["proxy-client-key-file", proxyClient.key],
    // Aggregated API servers are reached at their endpoints' pod IPs, so the API server needs no
    // kube-proxy of its own to find them.
    ["enable-aggregator-routing", "true"],
    // The API server publishes its advertise address as the endpoint of the `kubernetes` Service
    // and refuses to start when that is a loopback address, which no pod could reach anyway. A
    // control plane on loopback (processes on one machine, no pods) keeps no such endpoint.
    ...(isLoopback(me.ip) ? ([["endpoint-reconciler-type", "none"]] as const) : []),
    ...featureGatesFlag(ctx.cluster.featureGates),
  ];
  return renderArgs("kube-apiserver", flags, ctx.cluster.extraArgs["kube-apiserver"]);
}

function isLoopback(ip: string): boolean {
  const parsed = parseIP(ip);
  if (!parsed) return false;
  return parsed.family === 4 ? parsed.value >> 24n === 127n : parsed.value === 1n;
}
