import fs from "node:fs/promises";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Document } from "yaml";
import { writeFileAtomic } from "../util/atomic-write.js";
import { LISTS, loadKubeconfig, parseKubeconfig, stringifyKubeconfig, toKubeconfig, type Kubeconfig } from "./document.js";
import type { KubeconfigEntry } from "./entry.js";
import { withFileLock } from "./lock.js";
import { removeEntry, upsertEntry, type RemoveResult } from "./ownership.js";

export interface WriteOptions {
  /** How long to wait for a lock held by another kubectl or kubeyard (default 10 s). */
  lockTimeoutMs?: number;
}

export interface UpsertOptions extends WriteOptions {
  /** Make the context current-context (what `kubeyard start` does). */
  setCurrent?: boolean;
}

/**
 * Adds kubeyard's cluster, user and context `entry.name` to the kubeconfig `file` (creating the
 * file, and its folder with mode 0700, if missing), or replaces the ones kubeyard wrote before.
 * Refuses, changing nothing, when the file is corrupt or holds a same-named entry kubeyard did
 * not create.
 */
export async function upsertContext(file: string, entry: KubeconfigEntry, options: UpsertOptions = {}): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await edit(file, options, entry.name, (doc) => {
    upsertEntry(doc, entry, options.setCurrent ?? false, file);
    return { changed: true, result: undefined };
  });
}

/**
 * Removes kubeyard's cluster, user and context `name` from the kubeconfig `file`; entries of that
 * name that kubeyard did not create stay. See removeEntry for what becomes current.
 */
export async function removeContext(file: string, name: string, options: WriteOptions = {}): Promise<RemoveResult> {
  try {
    await fs.access(file);
  } catch {
    return { removed: [], foreign: [], currentContext: "" };
  }
  return edit(file, options, name, (doc) => {
    const result = removeEntry(doc, name);
    return { changed: result.removed.length > 0, result };
  });
}

async function edit<T>(
  file: string,
  options: WriteOptions,
  name: string,
  change: (doc: Document) => { changed: boolean; result: T },
): Promise<T> {
  return withFileLock(
    file,
    async () => {
      const { doc, text } = await loadKubeconfig(file);
      const before = toKubeconfig(doc);
      const { changed, result } = change(doc);
      if (!changed) return result;
      const output = stringifyKubeconfig(doc, text);
      assertOthersKept(before, toKubeconfig(parseKubeconfig(output, file)), name, file);
      await writeFileAtomic(file, output, { mode: 0o600 });
      return result;
    },
    { timeoutMs: options.lockTimeoutMs },
  );
}

/**
 * A last check before anything reaches the disk: apart from kubeyard's items named `name` and
 * current-context, the new file must mean exactly what the old one did. Catches a serializer
 * surprise (an alias, a tag) before it can damage the user's entries.
 */
function assertOthersKept(before: Kubeconfig, after: Kubeconfig, name: string, file: string): void {
  const lists = new Set<string>(LISTS.map(({ key }) => key));
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === "current-context" || lists.has(key)) continue;
    if (!isDeepStrictEqual(before[key], after[key])) throw notKept(file, `the top-level key "${key}"`);
  }
  for (const { key } of LISTS) {
    const others = (config: Kubeconfig) => config[key].filter((item) => item.name !== name);
    if (!isDeepStrictEqual(others(before), others(after))) throw notKept(file, `other entries of "${key}"`);
  }
}

function notKept(file: string, what: string): Error {
  return new Error(`kubeyard's update of ${file} would have changed ${what}; nothing was written. This is a bug in kubeyard.`);
}
