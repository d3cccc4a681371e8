import type { V1LoadBalancerIngress } from "@kubernetes/client-node";
import type { PortFailure } from "./port-errors.js";
import type { ServicePlan } from "./plan.js";

export type IpMode = "Proxy" | "VIP";

export interface PortStatus {
  port: number;
  protocol: string;
  error?: string;
}

/** What the tunnel writes into a served Service's status.loadBalancer.ingress (one entry). */
export interface TunnelIngress {
  ip: string;
  /**
   * "Proxy": traffic reaches the nodes from the tunnel's process, not with the address as
   * destination. "VIP": it arrives at a node addressed to the Service's address, and kube-proxy
   * forwards it (it only does so for this mode).
   */
  ipMode: IpMode;
  ports: PortStatus[];
}

const byPort = (a: PortStatus, b: PortStatus) => a.port - b.port || a.protocol.localeCompare(b.protocol);

/**
 * The ingress entry for a Service with an address: every port of the Service is listed (Kubernetes
 * asks for all or none), with an error on each one the tunnel does not serve.
 */
export function ingressFor(
  plan: ServicePlan & { address: string },
  failures: readonly PortFailure[],
  ipMode: IpMode = "Proxy",
): TunnelIngress {
  const failed = new Map(failures.map((f) => [`${f.port}/${f.protocol}`, f.error]));
  const ports: PortStatus[] = plan.ports.map(({ port, protocol }) => {
    const error = failed.get(`${port}/${protocol}`);
    return error ? { port, protocol, error } : { port, protocol };
  });
  for (const s of plan.skipped) ports.push({ port: s.port, protocol: s.protocol, error: s.error });
  return { ip: plan.address, ipMode, ports: ports.sort(byPort) };
}

/** Whether the Service's status already says what `want` says (whatever the key and port order). */
export function hasIngress(have: readonly V1LoadBalancerIngress[] | undefined, want: TunnelIngress): boolean {
  if (have?.length !== 1) return false;
  const h = have[0]!;
  const ports = (h.ports ?? []).map(({ port, protocol, error }) => (error ? { port, protocol, error } : { port, protocol })).sort(byPort);
  return h.ip === want.ip && (h.ipMode ?? "VIP") === want.ipMode && !h.hostname && JSON.stringify(ports) === JSON.stringify(want.ports);
}
