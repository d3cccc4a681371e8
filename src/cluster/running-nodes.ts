import type { NodeDriver, NodeInfo } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/**
 * The cluster's Kubernetes nodes, once every container of the cluster (its load balancer too) is
 * running; otherwise the user's error names each one that is not, and how to bring it back.
 */
export async function runningNodes(driver: NodeDriver, cluster: string): Promise<NodeInfo[]> {
  const all = await driver.listNodes(cluster);
  const nodes = all.filter((n) => n.role !== "load-balancer");
  if (!nodes.length) throw new UserError(`there is no cluster "${cluster}"`, "`kubeyard profile list` shows the clusters there are.");
  const down = all.filter((n) => n.state !== "running");
  if (down.length) {
    throw new UserError(
      `cluster "${cluster}" is not running (${down.map((n) => `${n.name} is ${n.state}`).join(", ")}).`,
      down.every((n) => n.state === "paused") ? "Resume it with `kubeyard unpause`." : "Start it with `kubeyard start` first.",
    );
  }
  return nodes;
}
