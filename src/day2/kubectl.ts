import path from "node:path";
import { ArtifactCache } from "../artifacts/cache.js";
import { obtainBinaries } from "../artifacts/obtain.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { UserError } from "../util/errors.js";
import { clusterKubeconfigText } from "../cluster/kubeconfig-entry.js";
import { profileDir, readState, type ClusterState } from "../cluster/state.js";

export interface ClusterKubectl {
  /** kubectl of the cluster's Kubernetes version, from the artifact cache. */
  binary: string;
  /** The cluster's own admin kubeconfig in its profile folder (0600); the user's kubeconfig is not involved. */
  kubeconfig: string;
  state: ClusterState;
}

/** The kubeconfig `kubeyard kubectl` and `kubeyard logs` use, in the profile folder. */
export function profileKubeconfigPath(name: string): string {
  return path.join(profileDir(name), "kubeconfig");
}

/**
 * What it takes to run kubectl against the cluster: the binary that matches its version (taken from
 * the cache, obtained like the node image's binaries when missing) and a kubeconfig of its own,
 * rewritten each time so that it follows the cluster's current API port.
 */
export async function clusterKubectl(
  name: string,
  opts: { warn?: (m: string) => void; onStep?: (s: string) => void } = {},
): Promise<ClusterKubectl> {
  const state = await readState(name);
  if (!state) throw new UserError(`there is no cluster "${name}"`, "`kubeyard profile list` shows the clusters there are.");
  const [k8s] = await obtainBinaries(["kubernetes"], state.config.versions, { cache: new ArtifactCache(), source: "auto", ...opts });
  const kubeconfig = profileKubeconfigPath(name);
  await writeFileAtomic(kubeconfig, await clusterKubeconfigText(state), { mode: 0o600 });
  return { binary: path.join(k8s!.dir, "kubectl"), kubeconfig, state };
}
