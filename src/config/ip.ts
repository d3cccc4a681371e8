import net from "node:net";

/**
 * IP addresses and CIDR ranges as integers, so that containment, overlap and "the Nth address of a
 * range" are plain arithmetic for IPv4 and IPv6 alike. Node's `net` decides what is a valid literal
 * (it rejects IPv4 octets with leading zeros, which Go, and so Kubernetes, also rejects).
 */

export type IPFamily = 4 | 6;

export interface IP {
  family: IPFamily;
  value: bigint;
}

export interface CIDR {
  family: IPFamily;
  /** The network address. */
  base: bigint;
  prefix: number;
}

export function bitsOf(family: IPFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses an IPv4 or IPv6 literal; zone ids ("fe80::1%eth0") are refused, a node cannot use them. */
export function parseIP(text: string): IP | undefined {
  if (net.isIPv4(text)) {
    const value = text.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { family: 4, value };
  }
  if (!net.isIPv6(text) || text.includes("%")) return undefined;
  let head = text;
  let tail: bigint[] = [];
  // A dotted IPv4 tail ("::ffff:1.2.3.4") stands for the last two groups.
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIP(dotted[1]!)!.value;
    tail = [v4 >> 16n, v4 & 0xffffn];
    head = text.slice(0, dotted.index + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left, right] = head.includes("::") ? head.split("::") : [head, undefined];
  const groups = (part: string | undefined) => (part ? part.split(":").map((g) => BigInt(parseInt(g, 16))) : []);
  const l = groups(left);
  const r = [...groups(right), ...tail];
  const zeros = right === undefined ? [] : new Array<bigint>(8 - l.length - r.length).fill(0n);
  const all = [...l, ...zeros, ...r];
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | g, 0n) };
}

export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

export type CIDRResult = { ok: true; cidr: CIDR } | { ok: false; problem: string };

/**
 * Parses "address/prefix". A range whose address has host bits set is refused with the range it
 * probably meant: Kubernetes would silently mask it, and a typo in a subnet is better caught here.
 */
export function parseCIDR(text: string): CIDRResult {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return { ok: false, problem: "is not a CIDR range" };
  const ip = parseIP(m[1]!);
  if (!ip) return { ok: false, problem: "does not start with a valid IP address" };
  const prefix = Number(m[2]);
  const bits = bitsOf(ip.family);
  if (prefix > bits) return { ok: false, problem: `has a prefix longer than ${bits} bits` };
  const base = maskOf(ip.value, ip.family, prefix);
  if (base !== ip.value) {
    const meant = formatCIDR({ family: ip.family, base, prefix });
    return { ok: false, problem: `has host bits set (did you mean ${meant}?)` };
  }
  return { ok: true, cidr: { family: ip.family, base, prefix } };
}

function maskOf(value: bigint, family: IPFamily, prefix: number): bigint {
  const host = BigInt(bitsOf(family) - prefix);
  return (value >> host) << host;
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP({ family: c.family, value: c.base })}/${c.prefix}`;
}

export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  if (a.family !== b.family) return false;
  const prefix = Math.min(a.prefix, b.prefix);
  return maskOf(a.base, a.family, prefix) === maskOf(b.base, b.family, prefix);
}

/** How many addresses the range holds, as a bigint because an IPv6 /48 does not fit a number. */
export function cidrSize(c: CIDR): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefix);
}

/** The address `n` places after the network address: 1 is the first usable one. */
export function nthAddress(c: CIDR, n: number): IP {
  if (BigInt(n) >= cidrSize(c)) throw new RangeError(`${formatCIDR(c)} has no address number ${n}`);
  return { family: c.family, value: c.base + BigInt(n) };
}

/** Whether a listen address covers every address of its family (0.0.0.0, ::). */
export function isUnspecified(ip: IP): boolean {
  return ip.value === 0n;
}
