import { formatIP, nthAddress as nth, parseCIDR } from "../config/ip.js";
import type { ClusterState } from "./state.js";

/** The n-th address of a subnet written as text (0 is the network address itself). */
export function nthAddress(subnet: string, n: number): string {
  const parsed = parseCIDR(subnet);
  if (!parsed.ok) throw new Error(`${subnet}: ${parsed.problem}`);
  return formatIP(nth(parsed.cidr, n));
}

/** The API server's URL from the host: the published address and port (the load balancer's with several control planes). */
export function hostServerURL(state: ClusterState): string {
  const host = state.config.networking.apiServerAddress;
  const h = host.includes(":") ? `[${host}]` : host;
  return `https://${h}:${state.apiServerPort}`;
}
