import { Document } from "yaml";
import { emptyKubeconfig, stringifyKubeconfig } from "./document.js";
import { clusterItem, contextItem, userItem, type KubeconfigEntry } from "./entry.js";

/**
 * A standalone kubeconfig holding only `entry`, current and with its certificates embedded, for
 * `kubeyard kubeconfig` to print. It carries no ownership mark: it is the user's to keep.
 */
export function renderKubeconfig(entry: KubeconfigEntry): string {
  const doc = new Document(
    {
      ...emptyKubeconfig(),
      clusters: [clusterItem(entry)],
      contexts: [contextItem(entry)],
      "current-context": entry.name,
      users: [userItem(entry)],
    },
    { version: "1.1" },
  );
  return stringifyKubeconfig(doc);
}
