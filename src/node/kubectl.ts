import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/** The admin kubeconfig every control plane holds. */
const ADMIN_CONF = "/etc/kubernetes/admin.conf";

/** Runs the node's kubectl as the cluster admin; fails with kubectl's own message. */
export async function nodeKubectl(driver: NodeDriver, node: string, args: string[]): Promise<string> {
  const r = await driver.exec(node, ["kubectl", "--kubeconfig", ADMIN_CONF, ...args]);
  if (r.exitCode !== 0) throw new UserError(`kubectl ${args.slice(0, 2).join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}
