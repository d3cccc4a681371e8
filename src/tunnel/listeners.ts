import type { AddressPool } from "./address-range.js";
import type { Forwarder, ForwardResult } from "./forwarder.js";
import type { PortPlan, ServicePlan } from "./plan.js";
import { listenFailure, PORT_ERROR } from "./port-errors.js";
import { bindPrivilege, privilegedPortProblem, type BindPrivilege } from "./privileged-ports.js";
import { Route } from "./route.js";
import { TcpProxy } from "./tcp-proxy.js";
import { UdpProxy } from "./udp-proxy.js";

interface Listener {
  service: string;
  route: Route;
  proxy: TcpProxy | UdpProxy;
}

/**
 * The tunnel's sockets: one listener per address, port and protocol of every planned Service,
 * opened, re-routed and closed as the plans change. A listener stays open while its Service keeps
 * that address and port, so its connections outlive changes of backends.
 */
export class Listeners implements Forwarder {
  readonly ipMode = "Proxy";
  private readonly open = new Map<string, Listener>();

  /** `privilege` is asked on every pass: a sysctl that allows low ports takes effect without a restart. */
  constructor(
    private readonly pool: AddressPool,
    private readonly privilege: () => BindPrivilege = bindPrivilege,
  ) {}

  async sync(plans: readonly ServicePlan[]): Promise<ForwardResult> {
    const privilege = this.privilege();
    const wanted = new Map<string, { plan: ServicePlan & { address: string }; port: PortPlan }>();
    for (const plan of plans) {
      if (!plan.address) continue;
      for (const port of plan.ports)
        wanted.set(`${plan.address}:${port.port}/${port.protocol}`, { plan: { ...plan, address: plan.address }, port });
    }
    for (const [key, l] of this.open) {
      if (wanted.get(key)?.plan.key === l.service) continue;
      this.open.delete(key);
      await l.proxy.close();
    }
    const result: ForwardResult = { failures: new Map(), moved: new Set() };
    for (const [key, { plan, port }] of wanted) {
      const existing = this.open.get(key);
      if (existing) {
        existing.route.update(plan.targets, port.nodePort, plan.sourceRanges);
        continue;
      }
      const route = new Route();
      route.update(plan.targets, port.nodePort, plan.sourceRanges);
      try {
        if (privilegedPortProblem(port.port, privilege)) throw Object.assign(new Error("privileged port"), { code: "EACCES" });
        const proxy =
          port.protocol === "TCP"
            ? await TcpProxy.listen(plan.address, port.port, route)
            : await UdpProxy.listen(plan.address, port.port, route);
        this.open.set(key, { service: plan.key, route, proxy });
      } catch (error) {
        const failure = listenFailure(plan.address, port.port, port.protocol, error, privilege);
        if (failure.error === PORT_ERROR.inUse && !plan.requested) {
          // Another program (or another cluster's tunnel) has this address: move to the next one.
          this.pool.markBusy(plan.address);
          result.moved.add(plan.key);
        }
        result.failures.set(plan.key, [...(result.failures.get(plan.key) ?? []), failure]);
      }
    }
    return result;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((l) => l.proxy.close()));
    this.open.clear();
  }
}
