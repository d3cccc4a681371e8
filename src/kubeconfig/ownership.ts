import { isMap, isScalar, isSeq, type Document, type YAMLMap, type YAMLSeq } from "yaml";
import { UserError } from "../util/errors.js";
import { LISTS, itemName, scalarText, type ListKey } from "./document.js";
import { clusterItem, contextItem, userItem, type Extensions, type KubeconfigEntry } from "./entry.js";

/*
 * How kubeyard knows what it created: every cluster, user and context it writes carries an
 * `extensions` item named "kubeyard" (kubeconfig's own mechanism for tool data, which kubectl
 * keeps when it rewrites the file; minikube marks its entries the same way). The mark travels
 * with the entry, so it stays right whichever kubeconfig or state dir is used, and an entry of
 * the same name that the user made is never overwritten or removed.
 *
 * The context's mark also remembers the current-context it replaced, so that removing the
 * context can hand the user back the cluster they were using rather than an arbitrary one.
 */
export const OWNER = "kubeyard";
const PREVIOUS = "previous-context";

export interface RemoveResult {
  /** Lists from which kubeyard's entry was removed. */
  removed: ListKey[];
  /** Lists holding an entry of that name that kubeyard did not create, left as they were. */
  foreign: ListKey[];
  /** current-context after the removal ("" when unset). */
  currentContext: string;
}

/** Adds or replaces kubeyard's cluster, user and context `entry.name`, editing `doc` in place. */
export function upsertEntry(doc: Document, entry: KubeconfigEntry, setCurrent: boolean, file: string): void {
  if (entry.name === "") throw new Error("a kubeconfig entry needs a name");
  const foreign = LISTS.filter(({ key, inner }) => {
    const item = findItem(doc, key, entry.name);
    return item !== undefined && !isOwned(item, inner);
  });
  if (foreign.length > 0) {
    const kinds = foreign.map(({ inner }) => inner).join(", ");
    throw new UserError(
      `The kubeconfig ${file} already has a ${kinds} named "${entry.name}" that kubeyard did not create.`,
      `kubeyard never overwrites entries it did not create. Rename or delete yours ` +
        `(kubectl config rename-context / delete-context / delete-cluster / delete-user), ` +
        `or use another profile name.`,
    );
  }

  const current = currentContext(doc);
  let previous = previousContext(doc, entry.name);
  if (setCurrent && current !== entry.name) previous = current || undefined;

  const mark = (extra: Record<string, unknown> = {}): Extensions => [{ extension: { provider: OWNER, ...extra }, name: OWNER }];
  put(doc, "clusters", entry.name, clusterItem(entry, mark()));
  put(doc, "users", entry.name, userItem(entry, mark()));
  put(doc, "contexts", entry.name, contextItem(entry, mark(previous ? { [PREVIOUS]: previous } : {})));
  if (setCurrent) setCurrentContext(doc, entry.name);
}

/**
 * Removes kubeyard's cluster, user and context `name`, editing `doc` in place. When that context
 * was current, the one it replaced becomes current again if it still exists; otherwise
 * current-context is unset rather than pointed at some unrelated cluster the user may not expect
 * kubectl to talk to.
 */
export function removeEntry(doc: Document, name: string): RemoveResult {
  const previous = previousContext(doc, name);
  const result: RemoveResult = { removed: [], foreign: [], currentContext: "" };
  for (const { key, inner } of LISTS) {
    const seq = listOf(doc, key);
    const index = seq ? seq.items.findIndex((item) => itemName(item) === name) : -1;
    if (!seq || index < 0) continue;
    if (isOwned(seq.items[index], inner)) {
      seq.delete(index);
      result.removed.push(key);
    } else {
      result.foreign.push(key);
    }
  }
  if (result.removed.includes("contexts") && currentContext(doc) === name) {
    const next = previous !== undefined && previous !== name && findItem(doc, "contexts", previous) ? previous : "";
    setCurrentContext(doc, next);
  }
  result.currentContext = currentContext(doc);
  return result;
}

/** Whether a cluster, user or context item (`inner` is "cluster", "user" or "context") carries kubeyard's mark. */
export function isOwned(item: unknown, inner: string): boolean {
  return ownerExtension(item, inner) !== undefined;
}

function ownerExtension(item: unknown, inner: string): YAMLMap | undefined {
  if (!isMap(item)) return undefined;
  const extensions = item.getIn([inner, "extensions"], true);
  if (!isSeq(extensions)) return undefined;
  for (const ext of extensions.items) {
    if (isMap(ext) && scalarText(ext.get("name", true)) === OWNER) {
      const payload = ext.get("extension", true);
      return isMap(payload) ? payload : undefined;
    }
  }
  return undefined;
}

function previousContext(doc: Document, name: string): string | undefined {
  const payload = ownerExtension(findItem(doc, "contexts", name), "context");
  return scalarText(payload?.get(PREVIOUS, true)) || undefined;
}

function currentContext(doc: Document): string {
  return scalarText(root(doc).get("current-context", true)) ?? "";
}

function setCurrentContext(doc: Document, name: string): void {
  const node = doc.createNode(name);
  const old = root(doc).get("current-context", true);
  // Keep a comment the user wrote beside the key.
  if (isScalar(old)) node.comment = old.comment;
  root(doc).set("current-context", node);
}

function put(doc: Document, key: ListKey, name: string, item: Record<string, unknown>): void {
  const node = doc.createNode(item);
  const seq = listOf(doc, key);
  if (!seq) {
    root(doc).set(key, doc.createNode([item]));
    return;
  }
  const index = seq.items.findIndex((existing) => itemName(existing) === name);
  if (index < 0) seq.add(node);
  else seq.set(index, node);
}

function findItem(doc: Document, key: ListKey, name: string): unknown {
  return listOf(doc, key)?.items.find((item) => itemName(item) === name);
}

function listOf(doc: Document, key: ListKey): YAMLSeq | undefined {
  const list = root(doc).get(key, true);
  return isSeq(list) ? list : undefined;
}

function root(doc: Document): YAMLMap {
  // parseKubeconfig guarantees a mapping at the top.
  return doc.contents as YAMLMap;
}
