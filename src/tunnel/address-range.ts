import { cidrsOverlap, formatIP, parseCIDR, parseIP, type CIDR } from "../config/ip.js";

/**
 * Where LoadBalancer addresses come from: loopback addresses. Linux routes all of 127.0.0.0/8 to
 * the loopback interface, so any process may listen on 127.100.0.7 without privilege, and every
 * Service gets an address of its own (two Services can both use port 80). Other programs seldom
 * use anything past 127.0.0.x; 127.100.0.0/16 leaves room for 65534 Services.
 */
export const TUNNEL_RANGE_TEXT = "127.100.0.0/16";
export const TUNNEL_RANGE: CIDR = (parseCIDR(TUNNEL_RANGE_TEXT) as { ok: true; cidr: CIDR }).cidr;
const RANGE_SIZE = 1 << (32 - TUNNEL_RANGE.prefix);

export function inTunnelRange(address: string): boolean {
  const ip = parseIP(address);
  return ip !== undefined && ip.family === 4 && cidrsOverlap(TUNNEL_RANGE, { family: 4, base: ip.value, prefix: 32 });
}

/** The `n`th address of the range (1 is the first used: the network address itself is skipped). */
export function nthTunnelAddress(n: number): string {
  return formatIP({ family: 4, value: TUNNEL_RANGE.base + BigInt(n) });
}

/**
 * Hands out one address per Service: the one it had while it stays, else the lowest free one.
 * Addresses another program already listens on (`markBusy`) are skipped from then on.
 */
export class AddressPool {
  private readonly byKey = new Map<string, string>();
  private readonly busy = new Set<string>();

  /** The Service's address; `reserved` are addresses Services asked for by spec.loadBalancerIP. */
  assign(key: string, reserved: ReadonlySet<string>): string | undefined {
    const had = this.byKey.get(key);
    if (had && !reserved.has(had) && !this.busy.has(had)) return had;
    const taken = new Set([...this.byKey.entries()].filter(([k]) => k !== key).map(([, a]) => a));
    for (let n = 1; n < RANGE_SIZE - 1; n++) {
      const a = nthTunnelAddress(n);
      if (!taken.has(a) && !reserved.has(a) && !this.busy.has(a)) {
        this.byKey.set(key, a);
        return a;
      }
    }
    this.byKey.delete(key);
    return undefined;
  }

  release(key: string): void {
    this.byKey.delete(key);
  }

  markBusy(address: string): void {
    this.busy.add(address);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }
}
