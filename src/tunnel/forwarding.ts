import net from "node:net";
import type { ClusterState } from "../cluster/state.js";
import { UserError } from "../util/errors.js";
import { LOOPBACK_RANGE, networkRange } from "./address-range.js";
import type { NodeExec } from "./node-addresses.js";
import type { Forwarding } from "./tunnel.js";

export type ForwardingChoice = "auto" | "route" | "proxy";

/** The kubelet's port: every node listens on it, so a TCP answer (or refusal) proves the route. */
const PROBE_PORT = 10250;
const PROBE_TIMEOUT_MS = 1_500;

/**
 * How the tunnel forwards for this cluster. "route" where this host reaches the cluster's network
 * (Linux, where Docker's networks are bridges on the host): the kernel carries the traffic and
 * kube-proxy balances it, as fast as reaching a NodePort directly, and ports below 1024 need no
 * privilege. "proxy" elsewhere (Docker Desktop keeps its networks inside a VM): loopback listeners.
 */
export async function chooseForwarding(
  state: ClusterState,
  choice: ForwardingChoice,
  exec: () => Promise<NodeExec>,
): Promise<{ forwarding: Forwarding; describe: string }> {
  const proxy = { forwarding: { mode: "proxy" } as const, describe: `addresses from ${LOOPBACK_RANGE.text}, forwarded by this process` };
  if (choice === "proxy") return proxy;
  const node = state.nodes[0];
  const reachable = process.platform === "linux" && node !== undefined && (await answers(node.ip, PROBE_PORT));
  if (!reachable) {
    if (choice === "auto") return proxy;
    throw new UserError(
      `this host does not reach the cluster's network ${state.network.subnet} (node ${node?.name ?? "?"} at ${node?.ip ?? "?"} does not answer)`,
      "Docker Desktop keeps its networks inside a VM; use `kubeyard tunnel --mode proxy`.",
    );
  }
  const range = networkRange(state.network.subnet);
  return {
    forwarding: { mode: "route", subnet: state.network.subnet, exec: await exec() },
    describe: `addresses from ${range.text} on the cluster's network, forwarded by the nodes' kube-proxy`,
  };
}

/** Whether a TCP connection to host:port is answered, accepted or refused, within the probe's time. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once("connect", () => done(true));
    s.once("timeout", () => done(false));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED"));
  });
}
