import { CRIO_SOCKET } from "../components/crio.js";
import type { ContainerRuntime } from "../config/index.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/** How long a node's supervisor may take to be ready for a service: minutes when many nodes boot at once. */
const SUPERVISOR_WAIT_S = 180;

/**
 * Starts components under the node's runit supervisor. Removing the `down` marker first means they
 * also come back by themselves when the node container restarts.
 */
export async function enableServices(driver: NodeDriver, node: string, services: string[]): Promise<void> {
  if (!services.length) return;
  // A node just started may not have its runsv processes yet (runsvdir starts them after the boot
  // hooks, which take a while when many nodes boot at once); without the `down` file runsv starts
  // the service itself once it runs, and `sv up` then confirms it. runsv makes its control fifo
  // before it opens it, so `sv up` is retried until runsv answers, not only until the fifo exists.
  const script = [
    'for s in "$@"; do rm -f "/etc/sv/$s/down"; done',
    'for s in "$@"; do',
    `  for i in $(seq 1 ${SUPERVISOR_WAIT_S * 10}); do sv up "/etc/service/$s" >/dev/null 2>&1 && continue 2; sleep 0.1; done`,
    `  echo "runit did not take $s within ${SUPERVISOR_WAIT_S} s: $(sv status "/etc/service/$s" 2>&1)" >&2`,
    "  exit 1",
    "done",
  ].join("\n");
  const r = await driver.exec(node, ["bash", "-c", script, "enable", ...services]);
  if (r.exitCode !== 0) throw new UserError(`could not start ${services.join(", ")} on ${node}: ${r.stderr || r.stdout}`);
}

/** The supervisor's view of one service: "run" with its uptime, or "down". */
export async function serviceStatus(driver: NodeDriver, node: string, service: string): Promise<{ up: boolean; detail: string }> {
  const r = await driver.exec(node, ["sv", "status", `/etc/service/${service}`]);
  const detail = r.stdout.trim() || r.stderr.trim();
  return { up: r.exitCode === 0 && detail.startsWith("run:"), detail };
}

/**
 * Makes the node's runtime read its registry settings again after they changed: containerd reads its host
 * files at each pull, CRI-O its registries.conf.d when it starts and when told to (SIGHUP). A CRI-O not
 * serving yet is left alone: it reads them as it starts, and the signal could end its start.
 */
export async function rereadRegistries(driver: NodeDriver, node: string, runtime: ContainerRuntime): Promise<void> {
  if (runtime !== "cri-o") return;
  const r = await driver.exec(node, ["sh", "-c", `[ ! -S ${CRIO_SOCKET} ] || sv hup /etc/service/crio`]);
  if (r.exitCode !== 0) throw new UserError(`could not make CRI-O on ${node} read its registry settings again: ${r.stderr || r.stdout}`);
}

/** Restarts a running service and waits until runit says it runs again. */
export async function restartService(driver: NodeDriver, node: string, service: string): Promise<void> {
  const r = await driver.exec(node, ["sv", "-w", String(SUPERVISOR_WAIT_S), "restart", `/etc/service/${service}`]);
  if (r.exitCode !== 0) throw new UserError(`could not restart ${service} on ${node}: ${r.stderr || r.stdout}`);
}
