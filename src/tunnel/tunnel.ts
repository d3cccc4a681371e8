import type { KubeConfig } from "@kubernetes/client-node";
import { followObjects, isNotFound, mergePatchStatus, type KubeObject } from "../kube/index.js";
import { AddressPool, LOOPBACK_RANGE, networkRange } from "./address-range.js";
import { ENDPOINT_SLICES, NODES, SERVICES, serviceKey, type EndpointSlice, type Node, type Service } from "./objects.js";
import { hasIngress, ingressFor, type TunnelIngress } from "./ingress-status.js";
import type { Forwarder } from "./forwarder.js";
import { Listeners } from "./listeners.js";
import { NodeAddresses, type NodeExec } from "./node-addresses.js";
import { nodeAddresses, planServices, type ServicePlan } from "./plan.js";
import type { PortFailure } from "./port-errors.js";

/** One line of the tunnel's table. */
export interface TunnelRow {
  service: string;
  address: string;
  ports: string;
  backends: number;
  /** What keeps (part of) the Service from being served, in words; empty when all is well. */
  problem: string;
}

/**
 * How traffic reaches the Services: "proxy", through listeners of the tunnel's own on loopback
 * addresses; "route", to addresses on the cluster's network that a node takes on and kube-proxy
 * serves, for hosts that route to that network (Linux, where it is a local bridge).
 */
export type Forwarding = { mode: "proxy" } | { mode: "route"; subnet: string; exec: NodeExec };

export interface TunnelOptions {
  signal: AbortSignal;
  forwarding?: Forwarding;
  /** Called with the whole table whenever it changes. */
  onRows?: (rows: TunnelRow[]) => void;
  /** Things that went wrong and will be retried (a status update the API refused, say). */
  onWarning?: (message: string) => void;
}

const STATUS_CLEAR_TIMEOUT_MS = 15_000;
const RETRY_LISTEN_MS = 5_000;

/**
 * Serves every LoadBalancer Service of the cluster until `signal` aborts: follows Services,
 * EndpointSlices and Nodes by watching, gives each Service an address and forwards its ports (see
 * Forwarding), and writes the address (with an error on each port it cannot serve) into
 * status.loadBalancer.ingress. What failed is tried again every few seconds. On abort it closes
 * every listener, removes the addresses from the nodes, and clears them from the status.
 */
export async function runTunnel(kc: KubeConfig, opts: TunnelOptions): Promise<void> {
  const t = new Tunnel(kc, opts);
  await t.run();
}

class Tunnel {
  private services: Service[] = [];
  private slices: EndpointSlice[] = [];
  private nodes: Node[] = [];
  private readonly synced = { services: false, slices: false, nodes: false };
  private readonly pool: AddressPool;
  private readonly forwarder: Forwarder;
  private retry: NodeJS.Timeout | undefined;
  /** Addresses this tunnel wrote into Services' status, by Service. */
  private readonly written = new Map<string, string>();
  private running: Promise<void> | undefined;
  private again = false;
  private lastTable = "";
  /** Aborts with the caller's signal, or when one of the watches fails for good. */
  private readonly stop = new AbortController();

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: TunnelOptions,
  ) {
    const forwarding = opts.forwarding ?? { mode: "proxy" };
    if (forwarding.mode === "route") {
      this.pool = new AddressPool(networkRange(forwarding.subnet));
      this.forwarder = new NodeAddresses(forwarding.exec);
    } else {
      this.pool = new AddressPool(LOOPBACK_RANGE);
      this.forwarder = new Listeners(this.pool);
    }
    if (opts.signal.aborted) this.stop.abort();
    opts.signal.addEventListener("abort", () => this.stop.abort(), { once: true });
  }

  async run(): Promise<void> {
    const { signal } = this.stop;
    const follow = <T>(query: { apiVersion: string; kind: string }, set: (items: T[]) => void, flag: keyof Tunnel["synced"]) =>
      followObjects(
        this.kc,
        query,
        (objects: KubeObject[]) => {
          set(objects as T[]);
          this.synced[flag] = true;
          this.schedule();
        },
        signal,
      );
    const watches = Promise.all([
      follow<Service>(SERVICES, (s) => (this.services = s), "services"),
      follow<EndpointSlice>(ENDPOINT_SLICES, (s) => (this.slices = s), "slices"),
      follow<Node>(NODES, (n) => (this.nodes = n), "nodes"),
    ]);
    try {
      await watches;
    } catch (error) {
      this.stop.abort();
      throw error;
    } finally {
      await this.shutdown();
    }
  }

  /** Runs a reconcile now, or once more after the running one when changes arrive meanwhile. */
  private schedule(): void {
    if (this.stop.signal.aborted || !Object.values(this.synced).every(Boolean)) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (error) {
          this.opts.onWarning?.(`could not apply the cluster's changes: ${(error as Error).message}`);
        }
      } while (this.again && !this.stop.signal.aborted);
      this.running = undefined;
    })();
  }

  private async reconcile(): Promise<void> {
    clearTimeout(this.retry);
    // Addresses an earlier tunnel gave stay with their Services: users may have written them down.
    for (const s of this.services) {
      const ip = s.status?.loadBalancer?.ingress?.[0]?.ip;
      if (ip && !s.spec?.loadBalancerIP) this.pool.adopt(serviceKey(s), ip);
    }
    const plans = planServices(this.services, this.slices, this.nodes, this.pool);
    const { failures, moved } = await this.forwarder.sync(plans, [...nodeAddresses(this.nodes).keys()]);
    if (moved.size) this.again = true;
    const { ipMode } = this.forwarder;
    const wanted = new Map<string, TunnelIngress>();
    for (const p of plans) {
      if (p.address && !moved.has(p.key)) wanted.set(p.key, ingressFor({ ...p, address: p.address }, failures.get(p.key) ?? [], ipMode));
    }
    await this.syncStatus(wanted, moved);
    this.emit(plans, failures, wanted);
    // A port another program holds, or that needs privilege, may be freed or allowed later.
    const failed = [...failures.keys()].some((key) => !moved.has(key));
    if (failed && !this.stop.signal.aborted) this.retry = setTimeout(() => this.schedule(), RETRY_LISTEN_MS);
  }

  /** Whether an ingress address is one a tunnel writes, in either mode (the mode may have changed since). */
  private isTunnelAddress(ip: string): boolean {
    return LOOPBACK_RANGE.contains(ip) || this.pool.range.contains(ip);
  }

  /**
   * Writes each addressed Service's ingress into its status; clears the tunnel's addresses from the
   * rest, except from Services about to move to another address.
   */
  private async syncStatus(wanted: Map<string, TunnelIngress>, moved: Set<string>): Promise<void> {
    for (const s of this.services) {
      const key = serviceKey(s);
      const ingress = s.status?.loadBalancer?.ingress ?? [];
      const want = wanted.get(key);
      if (want) {
        if (hasIngress(ingress, want) || (await this.patch(s, [want]))) this.written.set(key, want.ip);
      } else if (!moved.has(key) && !s.spec?.loadBalancerClass && ingress.some((i) => i.ip && this.isTunnelAddress(i.ip))) {
        // A tunnel's address that nothing serves any more (this tunnel's, or a killed one's).
        if (await this.patch(s, null)) this.written.delete(key);
      }
    }
    for (const key of this.written.keys()) if (!wanted.has(key) && !moved.has(key)) this.written.delete(key);
  }

  private async patch(s: Service, ingress: TunnelIngress[] | null, signal?: AbortSignal): Promise<boolean> {
    const ref = { ...SERVICES, namespace: s.metadata?.namespace, name: s.metadata?.name };
    try {
      await mergePatchStatus(this.kc, ref, { status: { loadBalancer: { ingress } } }, signal);
      return true;
    } catch (error) {
      if (!isNotFound(error)) this.opts.onWarning?.((error as Error).message);
      return false;
    }
  }

  private emit(plans: ServicePlan[], failures: Map<string, PortFailure[]>, wanted: Map<string, TunnelIngress>): void {
    const rows: TunnelRow[] = plans.map((p) => ({
      service: p.key,
      address: wanted.get(p.key)?.ip ?? "<pending>",
      ports: p.ports.map((x) => `${x.port}/${x.protocol}`).join(",") || "-",
      backends: p.readyBackends,
      problem: [p.problem, ...(failures.get(p.key) ?? []).map((f) => f.message)].filter(Boolean).join("; "),
    }));
    const text = JSON.stringify(rows);
    if (text === this.lastTable) return;
    this.lastTable = text;
    this.opts.onRows?.(rows);
  }

  /** Closes every listener or removes every node address, then clears the addresses this tunnel wrote (bounded, the API may be gone). */
  private async shutdown(): Promise<void> {
    clearTimeout(this.retry);
    await this.running?.catch(() => undefined);
    await this.forwarder.closeAll();
    const signal = AbortSignal.timeout(STATUS_CLEAR_TIMEOUT_MS);
    await Promise.all(
      [...this.written.keys()].map(async (key) => {
        const s = this.services.find((x) => serviceKey(x) === key);
        if (s) await this.patch(s, null, signal);
      }),
    );
    this.written.clear();
  }
}
