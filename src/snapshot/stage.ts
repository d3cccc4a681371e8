import { promises as fs } from "node:fs";
import path from "node:path";
import type { NodeDriver } from "../drivers/types.js";
import { removeNodeImagesExcept } from "../node/images.js";
import { runtimeImages } from "../node/runtime/index.js";
import { UserError } from "../util/errors.js";
import type { ProgressLine } from "../util/progress.js";
import { HOLD_REGISTRATION, NODE_PARTS, RESTORE_DIR, RESTORE_HOOK_PATH, RESTORE_READY, restoreHook, type NodePart } from "./node-parts.js";
import { preloadedImages } from "./preloaded.js";
import { nodeFile, snapshotRuntime, type SnapshotManifest } from "./store.js";

const IMAGES_IN_NODE = `${RESTORE_DIR}-images.tar`;

/** Which node of the cluster gets a saved node's parts: itself, or in a copy its counterpart. */
export type NodeTarget = (savedNode: string) => string;
const itself: NodeTarget = (n) => n;

/**
 * Gives each node's runtime the images it had when saved (while it runs), and
 * removes those it got since, but for the node image's own.
 */
export async function restoreImages(
  driver: NodeDriver,
  dir: string,
  manifest: SnapshotManifest,
  progress: ProgressLine,
  target: NodeTarget = itself,
): Promise<void> {
  const preloaded = preloadedImages(manifest.kubernetesVersion);
  const runtime = runtimeImages(snapshotRuntime(manifest));
  for (const n of manifest.nodes) {
    const node = target(n.name);
    const removed = await removeNodeImagesExcept(driver, node, new Set([...preloaded, ...n.images]), runtime);
    if (removed.length) progress(`removed ${removed.join(", ")} from ${node}`);
    if (!n.images.length) continue;
    progress(`${n.images.length} image${n.images.length === 1 ? "" : "s"} into ${node}`);
    await driver.copyFileIn(node, path.join(dir, nodeFile(n.name, "images.tar")), IMAGES_IN_NODE);
    try {
      const r = await runtime.import(driver, node, IMAGES_IN_NODE);
      if (!r.ok) throw new UserError(`importing the snapshot's images into ${node} failed: ${r.output}`);
    } finally {
      await driver.exec(node, ["rm", "-f", IMAGES_IN_NODE]);
    }
  }
}

/**
 * Leaves each node's saved folders on it, with the boot hook that applies them (node-parts.ts): the
 * next start of the node replaces the folders before any component runs. A staging killed half-way is
 * never applied: the hook wants the `ready` file, written last.
 */
export async function stageRestore(
  driver: NodeDriver,
  dir: string,
  manifest: SnapshotManifest,
  progress: ProgressLine,
  copy?: { target: NodeTarget },
): Promise<void> {
  for (const n of manifest.nodes) {
    const node = (copy?.target ?? itself)(n.name);
    progress(`stage etcd's data and the volumes on ${node}`);
    await driver.exec(node, ["rm", "-rf", RESTORE_DIR]);
    for (const part of Object.keys(NODE_PARTS) as NodePart[]) {
      const file = path.join(dir, nodeFile(n.name, part));
      if (await fs.stat(file).catch(() => undefined)) await driver.copyFileIn(node, file, `${RESTORE_DIR}/${part}`);
    }
    await driver.copyFiles(node, [
      { path: RESTORE_HOOK_PATH, content: restoreHook(), mode: 0o755 },
      ...(copy ? [{ path: HOLD_REGISTRATION, content: "" }] : []),
      { path: RESTORE_READY, content: manifest.name + "\n" },
    ]);
  }
}
