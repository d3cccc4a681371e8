import { renderKubeconfig, upsertContext } from "../kubeconfig/index.js";
import { pkiPaths, type PkiBundle } from "../pki/layout.js";
import { loadPki } from "../pki/store.js";
import { hostServerURL } from "./addresses.js";
import { pkiDir, type ClusterState } from "./state.js";

/** Adds the cluster's context (named after the profile) to the user's kubeconfig and makes it current. */
export async function writeClusterKubeconfig(state: ClusterState, pki: PkiBundle): Promise<void> {
  if (!state.kubeconfigPath) return;
  await upsertContext(state.kubeconfigPath, clusterEntry(state, pki), { setCurrent: true });
}

export function clusterEntry(state: ClusterState, pki: PkiBundle) {
  return {
    name: state.name,
    server: hostServerURL(state),
    caData: pki[pkiPaths.ca.cert]!,
    certData: pki[pkiPaths.admin.cert]!,
    keyData: pki[pkiPaths.admin.key]!,
  };
}

/** The cluster's own kubeconfig, for `kubeyard kubeconfig`. */
export async function clusterKubeconfigText(state: ClusterState): Promise<string> {
  return renderKubeconfig(clusterEntry(state, await loadPki(pkiDir(state.name))));
}
