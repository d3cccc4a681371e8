import { removeContext } from "../kubeconfig/index.js";
import type { NodeDriver } from "../drivers/types.js";
import { readState, refuseOtherEngine, removeState } from "../cluster/state.js";

export interface DeleteResult {
  nodes: string[];
  kubeconfigContext: boolean;
}

/**
 * Removes a cluster: its node containers and their volumes, its network, the kubeconfig entries
 * kubeyard made for it (current-context moves to one that exists, or is unset), and its state.
 * Whatever is already gone is skipped, so it also cleans up after an interrupted start.
 */
export async function deleteCluster(driver: NodeDriver, name: string, kubeconfigFallback: string | null): Promise<DeleteResult> {
  const state = await readState(name).catch(() => undefined);
  refuseOtherEngine(state, driver);
  const nodes = await driver.listNodes(name);
  await Promise.all(nodes.map((n) => driver.removeNode(n.name)));
  for (const n of state?.nodes ?? []) await driver.removeNode(n.name);
  await driver.removeNetwork(name);
  let kubeconfigContext = false;
  const kubeconfig = state ? state.kubeconfigPath : kubeconfigFallback;
  if (kubeconfig) {
    const r = await removeContext(kubeconfig, name);
    kubeconfigContext = r.removed.length > 0;
  }
  await removeState(name);
  return { nodes: nodes.map((n) => n.name), kubeconfigContext };
}
