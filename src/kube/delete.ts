import type { KubeConfig } from "@kubernetes/client-node";
import { applyRank } from "./apply-order.js";
import { deleteObject, listObjects, objectApi } from "./object-api.js";
import { describeRef, refOf, type KindRef, type ObjectRef } from "./types.js";
import { waitForDeleted, type WaitOptions } from "./wait.js";

/**
 * Deletes every object carrying the labels in `labelSelector`, over the given kinds, in every
 * namespace and cluster-wide, then waits (by watching) until all of them are gone. Kinds go in the
 * reverse of apply order: ordinary objects, then CRDs, then Namespaces, so a namespace is not
 * torn down under objects still being deleted one by one. A kind the server does not serve (its
 * CRD already removed) has nothing left to delete and is skipped. Objects `keep` accepts stay
 * (pruning what a newer apply no longer holds). Returns what was deleted.
 */
export async function deleteByLabel(
  kc: KubeConfig,
  labelSelector: string,
  kinds: readonly KindRef[],
  opts: WaitOptions & { keep?: (ref: ObjectRef) => boolean } = {},
): Promise<ObjectRef[]> {
  if (!labelSelector.trim()) throw new Error("deleteByLabel needs a label selector; an empty one would match everything");
  const api = objectApi(kc);
  const unique = [...new Map(kinds.map((k) => [`${k.apiVersion}/${k.kind}`, k])).values()];
  const ordered = unique.sort((a, b) => applyRank(b) - applyRank(a));
  // Looked up and listed side by side (one round trip per kind adds up on every enable); deleted
  // one kind after another in the order above.
  const listed = await Promise.all(
    ordered.map(async (kind) =>
      (await api.lookup(kind)) ? { kind, items: (await listObjects(kc, { ...kind, labelSelector }, opts.signal)).items } : undefined,
    ),
  );
  const deleted: ObjectRef[] = [];
  const served: KindRef[] = [];
  for (const entry of listed) {
    if (!entry) continue;
    served.push(entry.kind);
    for (const obj of entry.items) {
      const ref = refOf(obj);
      if (opts.keep?.(ref)) continue;
      if (await deleteObject(kc, ref, `delete ${describeRef(ref)}`)) deleted.push(ref);
    }
  }
  // Watched side by side, so the whole removal has one deadline however many kinds it spans.
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const waits = opts.keep
    ? deleted.map((ref) => waitForDeleted(kc, ref, { timeoutMs, signal: opts.signal }))
    : served.map((kind) => waitForDeleted(kc, { ...kind, labelSelector }, { timeoutMs, signal: opts.signal }));
  await Promise.all(waits);
  return deleted;
}
