import { parseCIDR, parseIP } from "../config/ip.js";
import { CNI_BRIDGE } from "./cni.js";
import type { ComponentContext, PodNetworkPeer } from "./types.js";

/**
 * The boot hook that joins this node's pods to the others': run by the node's entrypoint before
 * any service starts, on every (re)start, and by kubeyard whenever the cluster's nodes change.
 */
export const POD_NETWORK_HOOK = "/etc/kubeyard/boot.d/10-pod-network";
/**
 * Where kubeyard writes a new hook, outside boot.d: a new node's entrypoint runs boot.d while the
 * payload arrives, and a hook it found half-written (or still open for writing: "Text file busy")
 * would end its boot. The hook is renamed into boot.d whole.
 */
export const POD_NETWORK_HOOK_NEXT = "/etc/kubeyard/10-pod-network.next";

/** The nat chain the hook owns; it is flushed and refilled on every run. */
export const POD_MASQ_CHAIN = "KUBEYARD-POD-MASQ";
/** The filter chain that refuses what kube-proxy left addressed to the Service range; refilled on every run. */
export const SERVICE_REJECT_CHAIN = "KUBEYARD-SVC-REJECT";

/**
 * The hook's script. Every other node's pod range is routed via that node's address on the cluster
 * network (all nodes share one L2 network, so a static route is all a packet needs). The bridge CNI
 * does not masquerade (ipMasq false), so pod-to-pod traffic keeps the pod's source address, which
 * NetworkPolicy matches on; one rule masquerades what leaves the pod subnet instead. Routes into
 * the pod subnet that name no current peer (a deleted node) are removed. Bridge netfiltering is turned
 * on (br_netfilter loaded where the node may), or else Service traffic between the node's own pods is
 * masqueraded. A packet still addressed to the Service range after kube-proxy's rules (a ClusterIP's
 * port that no Service has, an address no Service holds) is refused, as no real network routes that
 * range: it would otherwise leave through the engine's NAT for the host's network.
 */
export function podNetworkHook(ctx: ComponentContext): string {
  const { podSubnet, serviceSubnet } = ctx.cluster.networking;
  const subnet = parseCIDR(podSubnet);
  if (!subnet.ok) throw new Error(`pod subnet ${podSubnet} ${subnet.problem}`);
  const own = parseCIDR(ctx.node.podCIDR);
  if (!own.ok) throw new Error(`node pod range ${ctx.node.podCIDR} ${own.problem}`);
  const v6 = subnet.cidr.family === 6;
  const peers = (ctx.peers ?? []).filter((p) => p.name !== ctx.node.name);
  for (const p of peers) checkPeer(p, subnet.cidr.family);
  const ip = v6 ? "ip -6" : "ip -4";
  const iptables = v6 ? "ip6tables" : "iptables";
  const lines = [
    "#!/bin/bash",
    "# Written by kubeyard: routes to the other nodes' pods, masquerading of pod traffic that leaves the pod subnet.",
    "set -euo pipefail",
    // The entrypoint and kubeyard may run it at once on a new node: one at a time, or their iptables calls collide.
    "exec 9>/run/kubeyard-pod-network.lock",
    "flock 9",
    `wanted=" ${peers.map((p) => p.podCIDR).join(" ")} "`,
    ...peers.map((p) => `${ip} route replace ${p.podCIDR} via ${p.ip} proto static`),
    `for dst in $(${ip} route show root ${podSubnet} proto static | awk '{print $1}'); do`,
    '  case "$wanted" in',
    '    *" $dst "*) ;;',
    `    *) ${ip} route del "$dst" proto static || true ;;`,
    "  esac",
    "done",
    // A Service's reply from a pod on this node to a pod on this node is bridged, not routed: only
    // bridge netfiltering sends it through conntrack, which gives it the Service's address back.
    // Docker before 27.3 loaded br_netfilter on the host; current Docker and Podman do not.
    `nf=/proc/sys/net/bridge/bridge-nf-call-${v6 ? "ip6tables" : "iptables"}`,
    '[ -e "$nf" ] || modprobe br_netfilter 2>/dev/null || true',
    '[ ! -e "$nf" ] || echo 1 > "$nf" 2>/dev/null || true',
    `${iptables} -t nat -N ${POD_MASQ_CHAIN} 2>/dev/null || ${iptables} -t nat -F ${POD_MASQ_CHAIN}`,
    'if [ "$(cat "$nf" 2>/dev/null)" != 1 ]; then',
    `  echo "no bridge netfiltering (br_netfilter): Service traffic between this node's pods is masqueraded" >&2`,
    // Without it, the Service's DNATed request is masqueraded to the bridge's address: the reply is
    // then routed through the node, which undoes the DNAT. The cost: such pods see the bridge's address.
    `  ${iptables} -t nat -A ${POD_MASQ_CHAIN} -o ${CNI_BRIDGE} -d ${ctx.node.podCIDR} -m conntrack --ctstate DNAT -j MASQUERADE`,
    "fi",
    `${iptables} -t nat -A ${POD_MASQ_CHAIN} -d ${podSubnet} -j RETURN`,
    `${iptables} -t nat -A ${POD_MASQ_CHAIN} -j MASQUERADE`,
    `${iptables} -t nat -C POSTROUTING -s ${ctx.node.podCIDR} -j ${POD_MASQ_CHAIN} 2>/dev/null ||`,
    `  ${iptables} -t nat -A POSTROUTING -s ${ctx.node.podCIDR} -j ${POD_MASQ_CHAIN}`,
    // kube-proxy translates in the nat table, before the filter chains: what reaches them still
    // addressed to the range had no Service to go to.
    "reject_service_range() {",
    `  ${iptables} -N ${SERVICE_REJECT_CHAIN} 2>/dev/null || ${iptables} -F ${SERVICE_REJECT_CHAIN} || return 1`,
    `  ${iptables} -A ${SERVICE_REJECT_CHAIN} -d ${serviceSubnet} -p tcp -j REJECT --reject-with tcp-reset || return 1`,
    `  ${iptables} -A ${SERVICE_REJECT_CHAIN} -d ${serviceSubnet} -j REJECT || return 1`,
    "  for chain in FORWARD OUTPUT; do",
    `    ${iptables} -C "$chain" -d ${serviceSubnet} -j ${SERVICE_REJECT_CHAIN} 2>/dev/null ||`,
    `      ${iptables} -I "$chain" -d ${serviceSubnet} -j ${SERVICE_REJECT_CHAIN} || return 1`,
    "  done",
    "}",
    // A host whose kernel lacks the REJECT target (and a rootless engine cannot load it) still gets a working node.
    `reject_service_range || echo "connections to unused Service addresses and ports are not refused on this node (no REJECT target)" >&2`,
    "",
  ];
  return lines.join("\n");
}

function checkPeer(p: PodNetworkPeer, family: 4 | 6): void {
  const range = parseCIDR(p.podCIDR);
  if (!range.ok || range.cidr.family !== family)
    throw new Error(`node ${p.name} has pod range ${p.podCIDR}, not in the pod subnet's family`);
  const addr = parseIP(p.ip);
  if (!addr || addr.family !== family) throw new Error(`node ${p.name} has address ${p.ip}, which cannot route IPv${family} pod traffic`);
}
