// The user's kubeconfig: where it is, how kubeyard adds and removes its own entries without
// touching anyone else's, and the standalone kubeconfig `kubeyard kubeconfig` prints.
export { kubeconfigPath, type KubeconfigPathOptions } from "./path.js";
export { readKubeconfig, type Kubeconfig, type NamedItem } from "./document.js";
export type { KubeconfigEntry } from "./entry.js";
export { upsertContext, removeContext, type UpsertOptions, type WriteOptions } from "./update.js";
export { OWNER as OWNER_EXTENSION, isOwned, type RemoveResult } from "./ownership.js";
export { renderKubeconfig } from "./render.js";
export { lockPathFor, DEFAULT_LOCK_TIMEOUT_MS } from "./lock.js";
