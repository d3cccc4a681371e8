import { DEFAULT_SUBNETS } from "../../config/defaults.js";
import { bitsOf, cidrsOverlap, formatCIDR, formatIP, nthAddress, parseIP, type CIDR } from "../../config/ip.js";

/**
 * Which private /24 a cluster's node network gets. It must overlap nothing the host already routes
 * (other Docker networks, the LAN, VPNs), else traffic to those places would go into the bridge, and
 * nothing Kubernetes addresses inside the cluster (the pod and service ranges), else a node could not
 * tell a pod from a peer node.
 */

export interface SubnetChoice {
  subnet: string;
  gateway: string;
}

/** The pod and service ranges a cluster uses unless its config says otherwise. */
export const DEFAULT_AVOID: readonly string[] = [DEFAULT_SUBNETS[4].pod, DEFAULT_SUBNETS[4].service];

/**
 * Candidates in order of preference: the top of 172.16.0.0/12 first (Docker's own pools start at
 * 172.17 and climb, so these are the last it hands out itself), then 10.150.0.0-10.199.255.0, a block
 * clear of the default pod (10.244/16) and service (10.96/12) ranges.
 */
export function* candidateSubnets(): Generator<string> {
  for (let b = 28; b <= 31; b++) for (let c = 0; c <= 255; c++) yield `172.${b}.${c}.0/24`;
  for (let b = 150; b <= 199; b++) for (let c = 0; c <= 255; c++) yield `10.${b}.${c}.0/24`;
}

/**
 * The first candidate that overlaps none of `taken` (subnets of existing networks and host routes,
 * in any notation Docker or the kernel uses; IPv6 and unparsable entries are ignored) nor `avoid`.
 */
export function chooseSubnet(
  taken: readonly string[],
  avoid: readonly string[] = DEFAULT_AVOID,
  candidates: Iterable<string> = candidateSubnets(),
): SubnetChoice | undefined {
  const blocked = [...taken, ...avoid].map(looseCIDR).filter((c): c is CIDR => c !== undefined && c.family === 4);
  for (const text of candidates) {
    const cidr = looseCIDR(text);
    if (!cidr || blocked.some((b) => cidrsOverlap(b, cidr))) continue;
    return { subnet: formatCIDR(cidr), gateway: formatIP(nthAddress(cidr, 1)) };
  }
  return undefined;
}

/**
 * Reads "address/prefix" (or a bare address, as a single host), masking host bits instead of
 * refusing them: routes and engines report ranges such as "192.168.1.7/24".
 */
export function looseCIDR(text: string): CIDR | undefined {
  const [addr, len, ...rest] = text.trim().split("/");
  if (rest.length || !addr) return undefined;
  const ip = parseIP(addr);
  if (!ip) return undefined;
  const bits = bitsOf(ip.family);
  const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  const host = BigInt(bits - prefix);
  return { family: ip.family, base: (ip.value >> host) << host, prefix };
}
