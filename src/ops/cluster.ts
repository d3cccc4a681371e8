import { deleteCluster, type DeleteResult } from "../day2/delete.js";
import { pauseCluster, unpauseCluster } from "../day2/pause.js";
import { withProfileLock } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";

/*
 * Day-2 operations on a whole cluster, each under the profile's lock so that no start, node add or
 * delete of the same cluster runs meanwhile.
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
