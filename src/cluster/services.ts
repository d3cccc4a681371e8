import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/**
 * Starts components under the node's runit supervisor. Removing the `down` marker first means they
 * also come back by themselves when the node container restarts.
 */
export async function enableServices(driver: NodeDriver, node: string, services: string[]): Promise<void> {
  if (!services.length) return;
  // A node just started may not have its runsv processes yet (runsvdir starts them after the boot
  // hooks); without the `down` file runsv starts the service itself once it runs, and `sv up` then
  // confirms it. supervise/ok appears when runsv is ready to take commands.
  const script = [
    'for s in "$@"; do rm -f "/etc/sv/$s/down"; done',
    'for s in "$@"; do',
    '  for _ in $(seq 1 300); do [ -p "/etc/service/$s/supervise/ok" ] && break; sleep 0.1; done',
    '  sv up "/etc/service/$s" || exit 1',
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
