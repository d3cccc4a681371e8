import { casFromBundle, missingCaFiles } from "./cas.js";
import { generateClusterPki, issueNodeCerts, type ClusterPkiSpec, type IssueOptions, type PkiNode } from "./cluster.js";
import { rootMaterial, type PkiBundle } from "./layout.js";
import { loadPki, writePki } from "./store.js";
import { UserError } from "../util/errors.js";

/**
 * Makes `dir` hold a complete PKI for `spec`: the CAs already there are kept (new ones are made
 * only when there are none at all), and every other certificate is issued afresh so that changed
 * node IPs or extra SANs are picked up. Safe to run on every start.
 */
export async function ensureClusterPki(dir: string, spec: ClusterPkiSpec, options: { now?: Date } = {}): Promise<PkiBundle> {
  const existing = await loadPki(dir);
  const fresh = missingCaFiles(existing).length === rootMaterial.length;
  const cas = fresh ? undefined : await casFromBundle(existing, dir);
  const bundle = await generateClusterPki(spec, { cas, now: options.now });
  await writePki(dir, bundle);
  return bundle;
}

/**
 * Issues a joining node's kubelet certificates from the CAs in `dir` and writes them there.
 * Returns just the new files. Re-adding a node re-issues its certificates; the CAs never change.
 */
export async function addNode(dir: string, node: PkiNode, options: IssueOptions = {}): Promise<PkiBundle> {
  const existing = await loadPki(dir);
  if (Object.keys(existing).length === 0) {
    throw new UserError(`there is no cluster PKI in ${dir}`, "create the cluster before adding nodes to it");
  }
  const files = await issueNodeCerts(await casFromBundle(existing, dir), node, options);
  await writePki(dir, files);
  return files;
}
