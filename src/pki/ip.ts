import { isIP } from "node:net";
import { UserError } from "../util/errors.js";

/** An IP address as a number, so that CIDR arithmetic is plain integer arithmetic. */
interface ParsedIp {
  family: 4 | 6;
  value: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

function parseIp(text: string): ParsedIp | undefined {
  const family = isIP(text);
  if (family === 4) {
    const value = text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family, value };
  }
  if (family === 6) return { family, value: parseIpv6(text) };
  return undefined;
}

function parseIpv6(text: string): bigint {
  // An embedded dotted quad ("::ffff:10.0.0.1") is two groups written as IPv4.
  let body = text;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted?.[1]) {
    const v4 = parseIp(dotted[1])!.value;
    body = body.slice(0, dotted.index) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = body.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function formatIp({ family, value }: ParsedIp): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (of two or more) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The canonical text of an IP address (RFC 5952 for IPv6), or undefined when `text` is not one. */
export function normalizeIp(text: string): string | undefined {
  const parsed = parseIp(text);
  return parsed && formatIp(parsed);
}

/**
 * The address Kubernetes gives the `kubernetes` Service: the first one after the network address
 * of the service CIDR ("10.96.0.0/12" -> "10.96.0.1", "fd00:10:96::/112" -> "fd00:10:96::1").
 */
export function firstServiceIP(cidr: string): string {
  const invalid = (why: string) =>
    new UserError(
      `invalid service CIDR "${cidr}": ${why}`,
      'write it as an address and a prefix length, e.g. "10.96.0.0/12" or "fd00:10:96::/112"',
    );
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) throw invalid("expected ADDRESS/PREFIX");
  const address = parseIp(match[1]!);
  if (!address) throw invalid(`"${match[1]}" is not an IP address`);
  const bits = BITS[address.family];
  const prefix = Number(match[2]);
  // A prefix that leaves no address after the network address has no room for the Service.
  if (prefix > bits - 1) throw invalid(`the prefix must be at most /${bits - 1} for IPv${address.family}`);
  const hostBits = BigInt(bits - prefix);
  const network = (address.value >> hostBits) << hostBits;
  return formatIp({ family: address.family, value: network + 1n });
}

/** The first Service IP of each CIDR in a (possibly dual-stack, comma-separated) service subnet. */
export function serviceIPs(serviceSubnet: string): string[] {
  const cidrs = serviceSubnet.split(",").map((c) => c.trim()).filter((c) => c !== "");
  if (cidrs.length === 0) {
    throw new UserError("the service subnet is empty", 'give a CIDR such as "10.96.0.0/12"');
  }
  return cidrs.map(firstServiceIP);
}
