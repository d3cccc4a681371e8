import type { KubeConfig } from "@kubernetes/client-node";
import { followObjects, isNotFound, mergePatchStatus, type KubeObject } from "../kube/index.js";
import { AddressPool, inTunnelRange } from "./address-range.js";
import { ENDPOINT_SLICES, NODES, SERVICES, serviceKey, type EndpointSlice, type Node, type Service } from "./objects.js";
import { planServices, type ServicePlan } from "./plan.js";
import { bindPrivilege, privilegedPortProblem } from "./privileged-ports.js";
import { Route } from "./route.js";
import { TcpProxy } from "./tcp-proxy.js";
import { UdpProxy } from "./udp-proxy.js";

/** One line of the tunnel's table. */
export interface TunnelRow {
  service: string;
  address: string;
  ports: string;
  backends: number;
  /** What keeps (part of) the Service from being served, in words; empty when all is well. */
  problem: string;
}

export interface TunnelOptions {
  signal: AbortSignal;
  /** Called with the whole table whenever it changes. */
  onRows?: (rows: TunnelRow[]) => void;
  /** Things that went wrong and will be retried (a status update the API refused, say). */
  onWarning?: (message: string) => void;
}

interface Listener {
  service: string;
  route: Route;
  proxy: TcpProxy | UdpProxy;
}

const STATUS_CLEAR_TIMEOUT_MS = 15_000;

/**
 * Serves every LoadBalancer Service of the cluster until `signal` aborts: follows Services,
 * EndpointSlices and Nodes by watching, listens on one loopback address per Service for each of
 * its ports, forwards to the Service's NodePort on the target nodes, and writes the address into
 * status.loadBalancer.ingress. On abort it closes every listener and clears the addresses it wrote.
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
  private readonly pool = new AddressPool();
  private readonly listeners = new Map<string, Listener>();
  /** Addresses this tunnel wrote into Services' status, by Service. */
  private readonly written = new Map<string, string>();
  private readonly privilege = bindPrivilege();
  private running: Promise<void> | undefined;
  private again = false;
  private lastTable = "";
  /** Aborts with the caller's signal, or when one of the watches fails for good. */
  private readonly stop = new AbortController();

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: TunnelOptions,
  ) {
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
    const plans = planServices(this.services, this.slices, this.nodes, this.pool);
    const bindProblems = await this.syncListeners(plans);
    const served = new Map<string, string>();
    for (const p of plans) {
      if (p.address && [...this.listeners.values()].some((l) => l.service === p.key)) served.set(p.key, p.address);
    }
    await this.syncStatus(served);
    this.emit(plans, bindProblems, served);
  }

  /** Opens, updates and closes listeners to match the plans; returns the bind failures by Service. */
  private async syncListeners(plans: ServicePlan[]): Promise<Map<string, string[]>> {
    const wanted = new Map<string, { plan: ServicePlan; port: ServicePlan["ports"][number] }>();
    for (const plan of plans) {
      if (!plan.address) continue;
      for (const port of plan.ports) wanted.set(`${plan.address}:${port.port}/${port.protocol}`, { plan, port });
    }
    for (const [key, l] of this.listeners) {
      if (wanted.get(key)?.plan.key === l.service) continue;
      this.listeners.delete(key);
      await l.proxy.close();
    }
    const problems = new Map<string, string[]>();
    for (const [key, { plan, port }] of wanted) {
      const existing = this.listeners.get(key);
      if (existing) {
        existing.route.update(plan.targets, port.nodePort, plan.sourceRanges);
        continue;
      }
      const route = new Route();
      route.update(plan.targets, port.nodePort, plan.sourceRanges);
      const privileged = privilegedPortProblem(port.port, this.privilege);
      try {
        if (privileged) throw Object.assign(new Error(privileged), { code: "EACCES" });
        const proxy = port.protocol === "TCP" ? await TcpProxy.listen(plan.address!, port.port, route) : await UdpProxy.listen(plan.address!, port.port, route);
        this.listeners.set(key, { service: plan.key, route, proxy });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE" && !plan.requested) {
          // Another program (or another cluster's tunnel) has this address: move to the next one.
          this.pool.markBusy(plan.address!);
          this.again = true;
        }
        const why =
          privileged ??
          (code === "EADDRINUSE"
            ? `${plan.address}:${port.port}/${port.protocol} is in use by another program on this host`
            : code === "EACCES"
              ? (privilegedPortProblem(port.port, { unprivilegedPortStart: 65536, canBindAny: false }) ?? String(error))
              : `cannot listen on ${plan.address}:${port.port}/${port.protocol}: ${(error as Error).message}`);
        problems.set(plan.key, [...(problems.get(plan.key) ?? []), why]);
      }
    }
    return problems;
  }

  /** Writes each served Service's address into its status; clears the tunnel's addresses from the rest. */
  private async syncStatus(served: Map<string, string>): Promise<void> {
    for (const s of this.services) {
      const key = serviceKey(s);
      const ingress = s.status?.loadBalancer?.ingress ?? [];
      const want = served.get(key);
      if (want) {
        if (ingress.length === 1 && ingress[0]!.ip === want) {
          this.written.set(key, want);
          continue;
        }
        if (await this.patch(s, [{ ip: want, ipMode: "Proxy" }])) this.written.set(key, want);
      } else if (!s.spec?.loadBalancerClass && ingress.some((i) => i.ip && inTunnelRange(i.ip))) {
        // A tunnel's address that nothing serves any more (this tunnel's, or a killed one's).
        if (await this.patch(s, null)) this.written.delete(key);
      }
    }
    for (const key of this.written.keys()) if (!served.has(key)) this.written.delete(key);
  }

  private async patch(s: Service, ingress: { ip: string; ipMode: string }[] | null, signal?: AbortSignal): Promise<boolean> {
    const ref = { ...SERVICES, namespace: s.metadata?.namespace, name: s.metadata?.name };
    try {
      await mergePatchStatus(this.kc, ref, { status: { loadBalancer: { ingress } } }, signal);
      return true;
    } catch (error) {
      if (!isNotFound(error)) this.opts.onWarning?.((error as Error).message);
      return false;
    }
  }

  private emit(plans: ServicePlan[], bindProblems: Map<string, string[]>, served: Map<string, string>): void {
    const rows: TunnelRow[] = plans.map((p) => ({
      service: p.key,
      address: served.get(p.key) ?? "<pending>",
      ports: p.ports.map((x) => `${x.port}/${x.protocol}`).join(",") || "-",
      backends: p.readyBackends,
      problem: [p.problem, ...(bindProblems.get(p.key) ?? [])].filter(Boolean).join("; "),
    }));
    const text = JSON.stringify(rows);
    if (text === this.lastTable) return;
    this.lastTable = text;
    this.opts.onRows?.(rows);
  }

  /** Closes every listener, then clears the addresses this tunnel wrote (bounded, the API may be gone). */
  private async shutdown(): Promise<void> {
    await this.running?.catch(() => undefined);
    await Promise.all([...this.listeners.values()].map((l) => l.proxy.close()));
    this.listeners.clear();
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
