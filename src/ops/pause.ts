import { pauseCluster, unpauseCluster } from "../day2/pause.js";
import { withProfileLock } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";

/** `kubeyard pause` and `unpause`, under the profile's lock (unpause waits, through the API, until the cluster serves). */
export function pauseProfile(driver: NodeDriver, name: string): Promise<string[]> {
  return withProfileLock(name, () => pauseCluster(driver, name));
}

export function unpauseProfile(driver: NodeDriver, name: string): Promise<string[]> {
  return withProfileLock(name, () => unpauseCluster(driver, name));
}
