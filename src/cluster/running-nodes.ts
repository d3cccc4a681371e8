import type { NodeDriver, NodeInfo } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/** The cluster's nodes (the API load balancer aside), all of which must be running. */
export async function runningNodes(driver: NodeDriver, cluster: string): Promise<NodeInfo[]> {
  const nodes = (await driver.listNodes(cluster)).filter((n) => n.role !== "load-balancer");
  if (!nodes.length) throw new UserError(`there is no cluster "${cluster}"`, "`kubeyard profile list` shows the clusters there are.");
  const notRunning = nodes.find((n) => n.state !== "running");
  if (notRunning) {
    throw new UserError(
      `node ${notRunning.name} is ${notRunning.state}`,
      notRunning.state === "paused" ? "Resume the cluster with `kubeyard unpause`." : "Start the cluster with `kubeyard start`.",
    );
  }
  return nodes;
}
