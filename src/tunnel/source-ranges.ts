import { cidrsOverlap, parseCIDR, parseIP, type CIDR } from "../config/ip.js";

export type SourceRanges = { ok: true; ranges: CIDR[] } | { ok: false; problem: string };

/** spec.loadBalancerSourceRanges, parsed; an empty list admits every client. */
export function parseSourceRanges(texts: readonly string[] | undefined): SourceRanges {
  const ranges: CIDR[] = [];
  for (const [i, text] of (texts ?? []).entries()) {
    const r = parseCIDR(text.trim());
    if (!r.ok)
      return { ok: false, problem: `spec.loadBalancerSourceRanges[${i}] "${text}" ${r.problem} (expected a range such as 127.0.0.1/32)` };
    ranges.push(r.cidr);
  }
  return { ok: true, ranges };
}

/** Whether a client address (as a socket reports it; IPv4-mapped IPv6 counts as IPv4) is admitted. */
export function admits(ranges: readonly CIDR[], client: string | undefined): boolean {
  if (!ranges.length) return true;
  if (!client) return false;
  const ip = parseIP(client.startsWith("::ffff:") && client.includes(".") ? client.slice(7) : client);
  if (!ip) return false;
  const bits = ip.family === 4 ? 32 : 128;
  return ranges.some((r) => cidrsOverlap(r, { family: ip.family, base: ip.value, prefix: bits }));
}
