import { deleteCluster, type DeleteResult } from "../day2/delete.js";
import { stopCluster } from "../day2/stop.js";
import { withProfileLock } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/*
 * Day-2 operations on a whole cluster that need no Kubernetes client (pause.ts has those that wait on
 * the API: loading the client costs about a second). Delete and stop run under the profile's lock so
 * that no start, node add or other change of the same cluster runs meanwhile: a stop in the middle
 * of a start would leave it half made.
 */

export function deleteProfile(driver: NodeDriver, name: string, kubeconfigFallback: string | null): Promise<DeleteResult> {
  return withProfileLock(name, () => deleteCluster(driver, name, kubeconfigFallback));
}

/** `kubeyard stop`: the nodes stopped; a profile without nodes is the user's error. */
export async function stopProfile(driver: NodeDriver, name: string): Promise<string[]> {
  const stopped = await withProfileLock(name, () => stopCluster(driver, name));
  if (!stopped.length) throw new UserError(`there is no cluster "${name}"`, "`kubeyard profile list` shows the clusters there are.");
  return stopped;
}
