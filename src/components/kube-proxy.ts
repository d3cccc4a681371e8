import yaml from "js-yaml";
import { renderArgs, type Flags } from "./args.js";
import { pathsOf } from "./paths.js";
import type { ComponentContext } from "./types.js";

/**
 * The KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) of a node.
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
export function kubeProxyConfig(ctx: ComponentContext): string {
  const paths = pathsOf(ctx);
  const config: Record<string, unknown> = {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    clientConnection: { kubeconfig: paths.kubeconfig("kube-proxy") },
    hostnameOverride: ctx.node.name,
    mode: "iptables",
    clusterCIDR: ctx.cluster.networking.podSubnet,
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
  };
  if (Object.keys(ctx.cluster.featureGates).length > 0) config.featureGates = { ...ctx.cluster.featureGates };
  return yaml.dump(config, { lineWidth: -1 });
}

export function kubeProxyArgs(ctx: ComponentContext): string[] {
  const flags: Flags = [["config", pathsOf(ctx).kubeProxyConfig]];
  return renderArgs("kube-proxy", flags, ctx.cluster.extraArgs["kube-proxy"]);
}
