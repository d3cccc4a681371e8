import type { CIDR } from "../config/ip.js";
import type { AddressPool } from "./address-range.js";
import { serviceKey, type EndpointSlice, type Node, type Service } from "./objects.js";
import { PORT_ERROR, type PortFailure } from "./port-errors.js";
import { parseSourceRanges } from "./source-ranges.js";

export type Protocol = "TCP" | "UDP";

export interface PortPlan {
  port: number;
  protocol: Protocol;
  /** Where the tunnel sends this port's traffic, on every target node. */
  nodePort: number;
}

/** What the tunnel does for one LoadBalancer Service. */
export interface ServicePlan {
  key: string;
  namespace: string;
  name: string;
  /** Its address from the pool's range; undefined when the Service cannot be served (see problem). */
  address?: string;
  /** Whether the address is the Service's own spec.loadBalancerIP. */
  requested: boolean;
  ports: PortPlan[];
  /** The Service's ports that are not forwarded, with why. */
  skipped: PortFailure[];
  /** Node addresses traffic is spread over (only nodes with a ready local endpoint under policy Local). */
  targets: string[];
  /** The names of those nodes, in the same order. */
  targetNodes: string[];
  readyBackends: number;
  sourceRanges: CIDR[];
  /** Why the Service gets no address, or what part of it is not forwarded. */
  problem?: string;
}

/** Whether the tunnel is the Service's load balancer: type LoadBalancer, and no other class asked for. */
export function isTunnelled(s: Service): boolean {
  return s.spec?.type === "LoadBalancer" && !s.spec.loadBalancerClass && !s.metadata?.deletionTimestamp;
}

/** Ready nodes' internal addresses, by node name; nodes excluded from external load balancers are left out. */
export function nodeAddresses(nodes: readonly Node[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) {
    if (n.metadata?.labels?.["node.kubernetes.io/exclude-from-external-load-balancers"] !== undefined) continue;
    const ready = n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const ip = n.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    if (ready && ip && n.metadata?.name) out.set(n.metadata.name, ip);
  }
  return out;
}

/** The ready endpoints of a Service: how many (by address), and on which nodes. */
export function readyEndpoints(slices: readonly EndpointSlice[], s: Service): { count: number; nodes: Set<string> } {
  const ns = s.metadata?.namespace;
  const name = s.metadata?.name;
  const addresses = new Set<string>();
  const nodes = new Set<string>();
  for (const slice of slices) {
    if (slice.metadata?.namespace !== ns || slice.metadata?.labels?.["kubernetes.io/service-name"] !== name) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      if (e.addresses[0]) addresses.add(e.addresses[0]);
      if (e.nodeName) nodes.add(e.nodeName);
    }
  }
  return { count: addresses.size, nodes };
}

/**
 * Works out, from what the cluster holds now, every LoadBalancer Service's address, ports and
 * target nodes. Addresses stay with their Service across calls (through `pool`).
 */
export function planServices(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  nodes: readonly Node[],
  pool: AddressPool,
): ServicePlan[] {
  const lb = services.filter(isTunnelled).sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)));
  const present = new Set(lb.map(serviceKey));
  for (const key of pool.keys()) if (!present.has(key)) pool.release(key);
  const nodeIPs = nodeAddresses(nodes);
  const range = pool.range;
  // Requested addresses first, so that an automatic one never takes an address a Service asked for.
  const reserved = new Set<string>();
  const requestedBy = new Map<string, string>();
  for (const s of lb) {
    const ip = s.spec?.loadBalancerIP;
    if (ip && range.contains(ip) && !requestedBy.has(ip)) {
      requestedBy.set(ip, serviceKey(s));
      reserved.add(ip);
    }
  }
  const plans: ServicePlan[] = [];
  for (const s of lb) {
    const key = serviceKey(s);
    const endpoints = readyEndpoints(slices, s);
    const local = s.spec?.externalTrafficPolicy === "Local";
    const targeted = [...nodeIPs.entries()].filter(([name]) => !local || endpoints.nodes.has(name));
    const plan: ServicePlan = {
      key,
      namespace: s.metadata?.namespace ?? "",
      name: s.metadata?.name ?? "",
      requested: false,
      ports: [],
      skipped: [],
      targets: targeted.map(([, ip]) => ip),
      targetNodes: targeted.map(([name]) => name),
      readyBackends: endpoints.count,
      sourceRanges: [],
    };
    plans.push(plan);
    for (const p of s.spec?.ports ?? []) {
      const protocol = p.protocol ?? "TCP";
      const skip = (error: string, message: string) => plan.skipped.push({ port: p.port, protocol, error, message });
      if (protocol !== "TCP" && protocol !== "UDP")
        skip(PORT_ERROR.protocol, `port ${p.port}/${protocol} is not forwarded (TCP and UDP only)`);
      else if (!p.nodePort)
        skip(PORT_ERROR.noNodePort, `port ${p.port}/${protocol} has no nodePort (spec.allocateLoadBalancerNodePorts is false)`);
      else plan.ports.push({ port: p.port, protocol, nodePort: p.nodePort });
    }
    const notes = plan.skipped.map((f) => f.message);
    const ranges = parseSourceRanges(s.spec?.loadBalancerSourceRanges);
    const ip = s.spec?.loadBalancerIP;
    let problem: string | undefined;
    if (!ranges.ok) problem = ranges.problem;
    else if (ip && !range.contains(ip)) {
      problem = `spec.loadBalancerIP ${ip} is outside ${range.text}, the range the tunnel serves: remove it or choose an address in that range`;
    } else if (ip && requestedBy.get(ip) !== key) {
      problem = `spec.loadBalancerIP ${ip} is already the address of ${requestedBy.get(ip)}`;
    } else if (!plan.ports.length) {
      problem = notes.length ? notes.join("; ") : "it has no ports";
    }
    if (problem) {
      pool.release(key);
      plan.problem = problem;
      plan.ports = [];
      plan.skipped = [];
      continue;
    }
    if (ranges.ok) plan.sourceRanges = ranges.ranges;
    if (notes.length) plan.problem = notes.join("; ");
    if (ip) {
      pool.release(key);
      plan.address = ip;
      plan.requested = true;
    } else {
      plan.address = pool.assign(key, reserved);
      if (!plan.address) plan.problem = `no free address left in ${range.text}`;
    }
  }
  return plans;
}
