import { bitsOf, formatCIDR, parseCIDR } from "../config/ip.js";

/** The name of the CNI network; containerd uses the first conflist in the directory. */
export const CNI_NETWORK_NAME = "kubeyard";
export const CNI_BRIDGE = "kubeyard0";

/**
 * The `index`-th range of `maskSize` bits in the pod subnet (index 0 is the first), the way the
 * node IPAM controller's range allocator counts them. The allocator hands ranges out in the order
 * nodes register, so a caller that fixes each node's range up front must make the Node's
 * spec.podCIDR agree (create the Node with it, or read it back before writing the CNI config).
 */
export function nodePodCIDR(podSubnet: string, maskSize: number, index: number): string {
  const parsed = parseCIDR(podSubnet);
  if (!parsed.ok) throw new Error(`pod subnet ${podSubnet} ${parsed.problem}`);
  const { family, base, prefix } = parsed.cidr;
  if (maskSize < prefix || maskSize > bitsOf(family)) {
    throw new Error(`a /${maskSize} range does not fit in the pod subnet ${podSubnet}`);
  }
  const count = 1n << BigInt(maskSize - prefix);
  if (!Number.isInteger(index) || index < 0 || BigInt(index) >= count) {
    throw new Error(`pod subnet ${podSubnet} has ${count} ranges of /${maskSize}; there is no range number ${index}`);
  }
  const step = 1n << BigInt(bitsOf(family) - maskSize);
  return formatCIDR({ family, base: base + BigInt(index) * step, prefix: maskSize });
}

/**
 * The node's CNI network: a Linux bridge that is the pods' gateway, with host-local addresses
 * from the node's pod range, hairpin mode so a pod reaches itself through its own Service, and
 * no masquerading of its own (the pod network hook does that for traffic leaving the pod subnet). portmap serves hostPort with SNAT so hairpinned
 * hostPort traffic returns the way it came. (The loopback interface CNI sets up by itself.)
 */
export function cniConflist(podCIDR: string): string {
  const parsed = parseCIDR(podCIDR);
  if (!parsed.ok) throw new Error(`node pod range ${podCIDR} ${parsed.problem}`);
  const defaultRoute = parsed.cidr.family === 4 ? "0.0.0.0/0" : "::/0";
  const conflist = {
    cniVersion: "1.0.0",
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: "bridge",
        bridge: CNI_BRIDGE,
        isGateway: true,
        // Pod-to-pod traffic keeps its source address (NetworkPolicy matches on it); the node's pod
        // network hook masquerades only what leaves the pod subnet (see pod-network.ts).
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: formatCIDR(parsed.cidr) }]],
          routes: [{ dst: defaultRoute }],
        },
      },
      { type: "portmap", capabilities: { portMappings: true }, snat: true },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}
