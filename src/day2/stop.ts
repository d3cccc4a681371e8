import type { NodeDriver } from "../drivers/types.js";

/**
 * Stops every node of the cluster (workers first, so the control plane sees them go, and the API
 * servers' load balancer last); returns their names.
 */
export async function stopCluster(driver: NodeDriver, name: string): Promise<string[]> {
  const nodes = await driver.listNodes(name);
  const rank = { worker: 0, "control-plane": 1, "load-balancer": 2 } as const;
  const order = [...nodes].sort((a, b) => rank[a.role] - rank[b.role]);
  for (const n of order) if (n.state === "running" || n.state === "paused") await driver.stopNode(n.name);
  return order.map((n) => n.name);
}
