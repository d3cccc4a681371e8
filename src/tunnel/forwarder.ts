import type { IpMode } from "./ingress-status.js";
import type { ServicePlan } from "./plan.js";
import type { PortFailure } from "./port-errors.js";

/** What one pass over the plans left undone. */
export interface ForwardResult {
  /** The ports that are not served, by Service. */
  failures: Map<string, PortFailure[]>;
  /** Services whose automatic address turned out to be taken: they get another one on the next pass. */
  moved: Set<string>;
}

/**
 * How the tunnel carries the traffic of Services that have an address: through listeners of its own
 * (Listeners, proxy mode), or to an address a node takes on (NodeAddresses, route mode).
 */
export interface Forwarder {
  /** What the Services' status says of their address (see TunnelIngress). */
  readonly ipMode: IpMode;
  /** Brings the forwarding in line with the plans; `readyNodes` are the nodes that may take an address on. */
  sync(plans: readonly ServicePlan[], readyNodes: readonly string[]): Promise<ForwardResult>;
  /** Stops forwarding everything. */
  closeAll(): Promise<void>;
}
