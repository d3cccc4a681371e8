import yaml from "js-yaml";
import type { ClusterSettings } from "./types.js";

/** Where the kube-proxy pod finds its ConfigMap's two files (kubeadm's paths). */
export const KUBE_PROXY_CONFIG_DIR = "/var/lib/kube-proxy";
/** What every pod gets of its ServiceAccount: the token and the cluster CA, kept fresh by the kubelet. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) every node's kube-proxy reads. One
 * for the cluster: the node's name comes from the pod (`--hostname-override`), as with kubeadm.
 *
 * Mode iptables: nftables works in these node containers too, but iptables is what the most
 * kernels and host setups (older kernels, hosts with iptables-legacy rules, CNI portmap's own
 * rules) have been run with, and kube-proxy's nftables mode needs a kernel of 5.13 or later.
 *
 * Conntrack: kube-proxy would raise nf_conntrack_max (maxPerCore > 0) and shorten the TCP
 * established/close-wait timeouts. nf_conntrack_max is global, writable only from the host's
 * network namespace, and a failed write makes kube-proxy exit; a node container must not change
 * the host's kernel anyway. 0 means "leave as it is" for each of them (0 maxPerCore also makes
 * kube-proxy ignore conntrack.min).
 */
export function kubeProxyConfig(cluster: Pick<ClusterSettings, "networking" | "featureGates">): string {
  const config: Record<string, unknown> = {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    clientConnection: { kubeconfig: `${KUBE_PROXY_CONFIG_DIR}/kubeconfig.conf` },
    mode: "iptables",
    clusterCIDR: cluster.networking.podSubnet,
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
  };
  if (Object.keys(cluster.featureGates).length > 0) config.featureGates = { ...cluster.featureGates };
  return yaml.dump(config, { lineWidth: -1 });
}

/**
 * kube-proxy's kubeconfig: its ServiceAccount's token and the cluster CA, at the API server address
 * the nodes' kubelets use. Not the `kubernetes` Service's address: kube-proxy is what makes Service
 * addresses work, so it cannot depend on one.
 */
export function kubeProxyKubeconfig(apiServerEndpoint: string): string {
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "default", cluster: { server: apiServerEndpoint, "certificate-authority": `${SERVICE_ACCOUNT_DIR}/ca.crt` } }],
    users: [{ name: "default", user: { tokenFile: `${SERVICE_ACCOUNT_DIR}/token` } }],
    contexts: [{ name: "default", context: { cluster: "default", namespace: "default", user: "default" } }],
    "current-context": "default",
  };
  return yaml.dump(doc, { lineWidth: -1 });
}
