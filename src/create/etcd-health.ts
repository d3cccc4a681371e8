import { setTimeout as sleep } from "node:timers/promises";
import type { PlacedNode } from "../cluster/topology.js";
import { etcdctl, etcdHealth, type EtcdHealth } from "../node/etcdctl.js";
import { UserError } from "../util/errors.js";
import type { Progress } from "./action.js";
import type { ClusterContext } from "./context.js";

/** How long a member that is starting (a node just resumed) may take to answer as healthy. */
const DEFAULT_HEALTH_WAIT_MS = 120_000;

/**
 * Waits (bounded, saying which member it waits for) until every etcd member of these control planes
 * is healthy. A member whose node is not running cannot become healthy by waiting: that is refused at
 * once, before anything changes, naming the node and the command that brings it back.
 */
export async function requireEtcdHealthy(ctx: ClusterContext, controlPlanes: PlacedNode[], progress: Progress): Promise<void> {
  const engine = new Map((await ctx.driver.listNodes(ctx.config.name)).map((n) => [n.name, n.state]));
  const down = controlPlanes.filter((p) => engine.get(p.config.name) !== "running");
  if (down.length) {
    const which = down.map((p) => `${p.config.name} is ${engine.get(p.config.name) ?? "missing"}`).join(", ");
    throw new UserError(
      `etcd cannot take a change while one of its members is down (${which}).`,
      `Bring it back with \`kubeyard start -p ${ctx.config.name}\`, then try again.`,
    );
  }
  const operator = controlPlanes[0];
  if (!operator) return;
  const waitMs = ctx.deps.etcdHealthWaitMs ?? DEFAULT_HEALTH_WAIT_MS;
  const deadline = Date.now() + waitMs;
  let unhealthy: EtcdHealth[] = [];
  for (let attempt = 1; ; attempt++) {
    ctx.deps.signal?.throwIfAborted();
    // A member still starting lets etcdctl wait out its whole timeout: short ones first notice it up
    // sooner, longer ones later still let a slow (emulated, loaded) host answer.
    const ask = { timeoutS: Math.min(5, attempt) };
    unhealthy = (await etcdHealth(ctx.driver, operator.config.name, ask).catch((err: Error) => [failedAsk(operator, err)])).filter(
      (h) => !h.healthy,
    );
    if (!unhealthy.length) return;
    if (Date.now() >= deadline) break;
    const left = Math.ceil((deadline - Date.now()) / 1000);
    progress(
      `waiting for etcd member ${unhealthy.map(nameOf).join(", ")} to be healthy (${unhealthy[0]?.reason ?? "no answer"}; up to ${left} s more)`,
    );
    // A resumed member answers within seconds; each ask is one etcdctl run in the node.
    await sleep(250);
  }
  throw new UserError(
    `etcd member ${unhealthy.map((h) => `${nameOf(h)} (${h.reason})`).join(", ")} did not become healthy within ${waitMs / 1000} s.`,
    `\`kubeyard status -p ${ctx.config.name}\` shows each node's etcd; \`kubeyard start -p ${ctx.config.name}\` brings stopped nodes back.`,
  );
}

function nameOf(h: EtcdHealth): string {
  return h.member.name || h.member.peerURL;
}

function failedAsk(node: PlacedNode, err: Error): EtcdHealth {
  return {
    member: { id: "", name: node.config.name, peerURL: `https://${node.ip}:2380`, clientURL: `https://${node.ip}:2379` },
    healthy: false,
    reason: err.message,
  };
}

/**
 * Adds a control plane to etcd. Every member answering is not enough for etcd: it takes a member only
 * once its leader has been connected to every member for a few seconds (a member just resumed is not
 * yet), and says "unhealthy cluster" until then. That answer is retried, bounded, saying so.
 */
export async function addEtcdMember(ctx: ClusterContext, operator: PlacedNode, member: PlacedNode, progress: Progress): Promise<void> {
  const waitMs = ctx.deps.etcdHealthWaitMs ?? DEFAULT_HEALTH_WAIT_MS;
  const deadline = Date.now() + waitMs;
  const args = ["member", "add", member.config.name, `--peer-urls=https://${member.ip}:2380`];
  for (;;) {
    ctx.deps.signal?.throwIfAborted();
    try {
      await etcdctl(ctx.driver, operator.config.name, args);
      return;
    } catch (err) {
      if (!/unhealthy cluster/.test((err as Error).message) || Date.now() >= deadline) throw err;
    }
    const left = Math.ceil((deadline - Date.now()) / 1000);
    progress(`etcd takes a member once its leader has seen every member for a few seconds; asking again (up to ${left} s more)`);
    await sleep(1_000);
  }
}
