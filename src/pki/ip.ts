import { bitsOf, formatIP, parseIP } from "../config/ip.js";
import { UserError } from "../util/errors.js";

/** The canonical text of an IP address (RFC 5952 for IPv6), or undefined when `text` is not one. */
export function normalizeIp(text: string): string | undefined {
  const parsed = parseIP(text);
  return parsed && formatIP(parsed);
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
  const address = parseIP(match[1]!);
  if (!address) throw invalid(`"${match[1]}" is not an IP address`);
  const bits = bitsOf(address.family);
  const prefix = Number(match[2]);
  // A prefix that leaves no address after the network address has no room for the Service.
  if (prefix > bits - 1) throw invalid(`the prefix must be at most /${bits - 1} for IPv${address.family}`);
  const hostBits = BigInt(bits - prefix);
  const network = (address.value >> hostBits) << hostBits;
  return formatIP({ family: address.family, value: network + 1n });
}

/** The first Service IP of each CIDR in a (possibly dual-stack, comma-separated) service subnet. */
export function serviceIPs(serviceSubnet: string): string[] {
  const cidrs = serviceSubnet
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (cidrs.length === 0) {
    throw new UserError("the service subnet is empty", 'give a CIDR such as "10.96.0.0/12"');
  }
  return cidrs.map(firstServiceIP);
}
