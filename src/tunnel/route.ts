import type { CIDR } from "../config/ip.js";
import { admits } from "./source-ranges.js";

export interface Target {
  host: string;
  port: number;
}

/**
 * Where one listener sends its traffic: changed in place as the cluster changes, so a listener
 * stays open (and its connections alive) while its Service's backends come and go.
 */
export class Route {
  private targets: string[] = [];
  private nodePort = 0;
  private ranges: CIDR[] = [];
  private turn = 0;

  update(targets: readonly string[], nodePort: number, ranges: readonly CIDR[]): void {
    this.targets = [...targets];
    this.nodePort = nodePort;
    this.ranges = [...ranges];
  }

  /** Whether loadBalancerSourceRanges admit this client. */
  admits(client: string | undefined): boolean {
    return admits(this.ranges, client);
  }

  /** The next target in turn (spreading connections over the nodes), or undefined when there is none. */
  next(): Target | undefined {
    if (!this.targets.length) return undefined;
    const host = this.targets[this.turn++ % this.targets.length]!;
    return { host, port: this.nodePort };
  }
}
