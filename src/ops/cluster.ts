import { deleteCluster, type DeleteResult } from "../day2/delete.js";
import { pauseCluster, unpauseCluster } from "../day2/pause.js";
import { stopCluster } from "../day2/stop.js";
import { withProfileLock } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/*
 * Day-2 operations on a whole cluster. Delete, pause and unpause run under the profile's lock so that
 * no start, node add or delete of the same cluster runs meanwhile.
 */

export function deleteProfile(driver: NodeDriver, name: string, kubeconfigFallback: string | null): Promise<DeleteResult> {
  return withProfileLock(name, () => deleteCluster(driver, name, kubeconfigFallback));
}

export function pauseProfile(driver: NodeDriver, name: string): Promise<string[]> {
  return withProfileLock(name, () => pauseCluster(driver, name));
}

export function unpauseProfile(driver: NodeDriver, name: string): Promise<string[]> {
  return withProfileLock(name, () => unpauseCluster(driver, name));
}

/** `kubeyard stop`: the nodes stopped; a profile without nodes is the user's error. */
export async function stopProfile(driver: NodeDriver, name: string): Promise<string[]> {
  const stopped = await stopCluster(driver, name);
  if (!stopped.length) throw new UserError(`there is no cluster "${name}"`, "`kubeyard profile list` shows the clusters there are.");
  return stopped;
}
