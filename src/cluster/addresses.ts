import { formatIP, nthAddress as nth, parseCIDR } from "../config/ip.js";

/** The n-th address of a subnet written as text (0 is the network address itself). */
export function nthAddress(subnet: string, n: number): string {
  const parsed = parseCIDR(subnet);
  if (!parsed.ok) throw new Error(`${subnet}: ${parsed.problem}`);
  return formatIP(nth(parsed.cidr, n));
}
