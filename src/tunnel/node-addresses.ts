import type { Forwarder, ForwardResult } from "./forwarder.js";
import type { ServicePlan } from "./plan.js";
import { PORT_ERROR, type PortFailure } from "./port-errors.js";

/** Runs a command in a node's container. */
export type NodeExec = (node: string, cmd: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** The node's interface on the cluster network, and the label that marks the tunnel's addresses on it. */
const DEVICE = "eth0";
const LABEL = `${DEVICE}:kyt`;

/**
 * Puts each Service's address on one node's interface on the cluster network. The host then reaches
 * the address by plain routing (the node answers ARP for it), and kube-proxy, which every node runs
 * with rules for each LoadBalancer address, forwards the packets to the Service's pods: the kernel
 * carries the traffic, no process of the tunnel's does. The address stays on its node while that
 * node remains a target, so connections survive changes elsewhere. The addresses carry a label, so
 * a later tunnel finds and removes those a killed one left behind.
 */
export class NodeAddresses implements Forwarder {
  readonly ipMode = "VIP";
  /** Node by address. */
  private readonly held = new Map<string, string>();
  /** Nodes whose leftover addresses were looked for. */
  private readonly swept = new Set<string>();

  constructor(private readonly exec: NodeExec) {}

  /** An address whose Service has no target node (no ready local endpoint, say) goes to one of `readyNodes`. */
  async sync(plans: readonly ServicePlan[], readyNodes: readonly string[]): Promise<ForwardResult> {
    const want = new Map<string, { node: string; plan: ServicePlan }>();
    for (const plan of plans) {
      if (!plan.address || !plan.ports.length) continue;
      const current = this.held.get(plan.address);
      const candidates = plan.targetNodes.length ? plan.targetNodes : readyNodes;
      const node = current && candidates.includes(current) ? current : candidates[0];
      if (node) want.set(plan.address, { node, plan });
    }
    const scripts = new Map<string, string[]>();
    const add = (node: string, line: string) => scripts.set(node, [...(scripts.get(node) ?? []), line]);
    for (const node of readyNodes) {
      if (this.swept.has(node)) continue;
      const leftovers = await this.leftovers(node);
      if (!leftovers) continue; // looked for again on the next pass
      for (const address of leftovers) {
        if (want.get(address)?.node !== node) add(node, `ip addr del ${address}/32 dev ${DEVICE} 2>/dev/null`);
        else this.held.set(address, node);
      }
      this.swept.add(node);
    }
    for (const [address, node] of this.held) {
      if (want.get(address)?.node === node) continue;
      add(node, `ip addr del ${address}/32 dev ${DEVICE} 2>/dev/null`);
      this.held.delete(address);
    }
    for (const [address, { node }] of want) {
      if (this.held.get(address) !== node) add(node, `ip addr replace ${address}/32 dev ${DEVICE} label ${LABEL} || echo ${address} >&2`);
    }
    const result: ForwardResult = { failures: new Map(), moved: new Set() };
    await Promise.all(
      [...scripts].map(async ([node, lines]) => {
        const r = await this.exec(node, ["sh", "-c", `${lines.join("\n")}\ntrue`]).catch((e: Error) => ({
          exitCode: 1,
          stdout: "",
          stderr: e.message,
        }));
        for (const [address, w] of want) {
          if (w.node !== node) continue;
          const failed = r.exitCode !== 0 || r.stderr.split("\n").includes(address);
          if (!failed) {
            this.held.set(address, node);
            continue;
          }
          const message = `could not put ${address} on node ${node}: ${r.stderr.trim() || `exit code ${r.exitCode}`}`;
          const failures: PortFailure[] = w.plan.ports.map((p) => ({
            port: p.port,
            protocol: p.protocol,
            error: PORT_ERROR.nodeAddress,
            message,
          }));
          result.failures.set(w.plan.key, failures);
        }
      }),
    );
    return result;
  }

  /** Removes every address this tunnel put on a node. */
  async closeAll(): Promise<void> {
    const byNode = new Map<string, string[]>();
    for (const [address, node] of this.held) byNode.set(node, [...(byNode.get(node) ?? []), address]);
    await Promise.all(
      [...byNode].map(([node, addresses]) =>
        this.exec(node, ["sh", "-c", addresses.map((a) => `ip addr del ${a}/32 dev ${DEVICE} 2>/dev/null`).join("\n") + "\ntrue"]).catch(
          () => undefined,
        ),
      ),
    );
    this.held.clear();
  }

  /** Addresses with the tunnel's label on a node (this tunnel's, or a killed one's); undefined when the node cannot be asked. */
  private async leftovers(node: string): Promise<string[] | undefined> {
    const r = await this.exec(node, ["ip", "-o", "-4", "addr", "show", "dev", DEVICE, "label", LABEL]).catch(() => undefined);
    if (!r || r.exitCode !== 0) return undefined;
    return [...r.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/32/g)].map((m) => m[1]!);
  }
}
