import path from "node:path";
import { DEFAULT_LAYOUT, nodeFiles, podNetworkHook, POD_NETWORK_HOOK_NEXT, type ComponentContext } from "../components/index.js";
import { fileMode, pkiPaths, type PkiBundle } from "../pki/layout.js";
import type { FileToCopy } from "../drivers/types.js";

/**
 * The PKI files a node needs: a control plane gets the whole PKI but other nodes' kubelet keys; a
 * worker only the cluster CA and its own kubelet credentials.
 */
export function pkiFor(bundle: PkiBundle, ctx: ComponentContext): PkiBundle {
  const own = `nodes/${ctx.node.name}/`;
  const keep = (rel: string): boolean => {
    if (rel.startsWith("nodes/")) return rel.startsWith(own);
    if (ctx.node.role === "control-plane") return true;
    return rel === pkiPaths.ca.cert;
  };
  return Object.fromEntries(Object.entries(bundle).filter(([rel]) => keep(rel)));
}

/** Everything kubeyard writes into a node before its components start. */
export function nodePayload(bundle: PkiBundle, ctx: ComponentContext): FileToCopy[] {
  const files: FileToCopy[] = Object.entries(pkiFor(bundle, ctx)).map(([rel, pem]) => ({
    path: path.posix.join(DEFAULT_LAYOUT.pkiDir, rel),
    content: pem,
    mode: fileMode(rel),
  }));
  for (const f of nodeFiles(ctx)) files.push({ path: f.path, content: f.content, mode: f.mode });
  files.push(podNetworkFile(ctx));
  return files;
}

/**
 * The node's pod network boot hook, rewritten on every node when the cluster's nodes change; written
 * beside boot.d, and put in place by applyPodNetwork.
 */
export function podNetworkFile(ctx: ComponentContext): FileToCopy {
  return { path: POD_NETWORK_HOOK_NEXT, content: podNetworkHook(ctx), mode: 0o755 };
}
