import type { NodeDriver } from "../drivers/types.js";

/** Stops every node of the cluster (workers first, so the control plane sees them go); returns their names. */
export async function stopCluster(driver: NodeDriver, name: string): Promise<string[]> {
  const nodes = await driver.listNodes(name);
  const order = [...nodes].sort((a, b) => Number(a.role === "control-plane") - Number(b.role === "control-plane"));
  for (const n of order) if (n.state === "running" || n.state === "paused") await driver.stopNode(n.name);
  return order.map((n) => n.name);
}
