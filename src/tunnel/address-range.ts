import { cidrsOverlap, formatIP, parseCIDR, parseIP, type CIDR } from "../config/ip.js";

/** A range of IPv4 addresses the tunnel hands out to LoadBalancer Services. */
export class AddressRange {
  readonly cidr: CIDR;
  private readonly size: number;

  constructor(readonly text: string) {
    const parsed = parseCIDR(text);
    if (!parsed.ok || parsed.cidr.family !== 4) throw new Error(`${text} is not an IPv4 range`);
    this.cidr = parsed.cidr;
    this.size = 1 << (32 - this.cidr.prefix);
  }

  contains(address: string): boolean {
    const ip = parseIP(address);
    return ip !== undefined && ip.family === 4 && cidrsOverlap(this.cidr, { family: 4, base: ip.value, prefix: 32 });
  }

  /** The `n`th address of the range (1 is the first used: the network address itself is skipped). */
  nth(n: number): string {
    return formatIP({ family: 4, value: this.cidr.base + BigInt(n) });
  }

  /** How many addresses can be handed out: all but the first and the last. */
  get usable(): number {
    return this.size - 2;
  }
}

/**
 * Loopback addresses, where the tunnel's own process listens and forwards. Linux routes all of
 * 127.0.0.0/8 to the loopback interface, so any process may listen on 127.100.0.7 without
 * privilege, and every Service gets an address of its own (two Services can both use port 80).
 * Other programs seldom use anything past 127.0.0.x; 127.100.0.0/16 leaves room for 65534 Services.
 */
export const LOOPBACK_RANGE = new AddressRange("127.100.0.0/16");

/**
 * Addresses on the cluster's own network, which a node takes on and the host reaches by plain
 * routing: the last quarter of it (for a /24, .193 to .254). kubeyard gives nodes and the load
 * balancer addresses from the start of the network, so the two never meet.
 */
export function networkRange(subnet: string): AddressRange {
  const parsed = parseCIDR(subnet);
  if (!parsed.ok || parsed.cidr.family !== 4 || parsed.cidr.prefix > 28)
    throw new Error(`the cluster network ${subnet} is not an IPv4 network of 16 addresses or more`);
  const prefix = parsed.cidr.prefix + 2;
  const quarter = 1n << BigInt(32 - prefix);
  return new AddressRange(`${formatIP({ family: 4, value: parsed.cidr.base + 3n * quarter })}/${prefix}`);
}

/**
 * Hands out one address per Service from a range: the one it had while it stays, else the lowest
 * free one. Addresses found taken (`markBusy`) are skipped from then on.
 */
export class AddressPool {
  private readonly byKey = new Map<string, string>();
  private readonly busy = new Set<string>();

  constructor(readonly range: AddressRange = LOOPBACK_RANGE) {}

  /** The Service's address; `reserved` are addresses Services asked for by spec.loadBalancerIP. */
  assign(key: string, reserved: ReadonlySet<string>): string | undefined {
    const had = this.byKey.get(key);
    if (had && !reserved.has(had) && !this.busy.has(had)) return had;
    const taken = new Set([...this.byKey.entries()].filter(([k]) => k !== key).map(([, a]) => a));
    for (let n = 1; n <= this.range.usable; n++) {
      const a = this.range.nth(n);
      if (!taken.has(a) && !reserved.has(a) && !this.busy.has(a)) {
        this.byKey.set(key, a);
        return a;
      }
    }
    this.byKey.delete(key);
    return undefined;
  }

  /** Gives the Service back an address it had (from an earlier tunnel), unless another one holds it. */
  adopt(key: string, address: string): void {
    if (this.byKey.has(key) || this.busy.has(address) || !this.range.contains(address)) return;
    if ([...this.byKey.values()].includes(address)) return;
    this.byKey.set(key, address);
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
