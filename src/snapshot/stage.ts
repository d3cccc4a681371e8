import { promises as fs } from "node:fs";
import path from "node:path";
import type { NodeDriver } from "../drivers/types.js";
import { importNodeImages } from "../node/images.js";
import { UserError } from "../util/errors.js";
import type { ProgressLine } from "../util/progress.js";
import { NODE_PARTS, RESTORE_DIR, RESTORE_HOOK_PATH, RESTORE_READY, restoreHook, type NodePart } from "./node-parts.js";
import { nodeFile, type SnapshotManifest } from "./store.js";

const IMAGES_IN_NODE = `${RESTORE_DIR}-images.tar`;

/** Puts each node's saved images back into its runtime (while it runs: containerd imports them). */
export async function importSnapshotImages(driver: NodeDriver, dir: string, manifest: SnapshotManifest, progress: ProgressLine): Promise<void> {
  for (const n of manifest.nodes.filter((n) => n.images.length)) {
    progress(`${n.images.length} image${n.images.length === 1 ? "" : "s"} into ${n.name}`);
    await driver.copyFileIn(n.name, path.join(dir, nodeFile(n.name, "images.tar")), IMAGES_IN_NODE);
    try {
      const r = await importNodeImages(driver, n.name, IMAGES_IN_NODE);
      if (!r.ok) throw new UserError(`importing the snapshot's images into ${n.name} failed: ${r.output}`);
    } finally {
      await driver.exec(n.name, ["rm", "-f", IMAGES_IN_NODE]);
    }
  }
}

/**
 * Leaves each node's saved folders on it, with the boot hook that applies them (node-parts.ts): the
 * next start of the node replaces the folders before any component runs. A staging killed half-way is
 * never applied: the hook wants the `ready` file, written last.
 */
export async function stageRestore(driver: NodeDriver, dir: string, manifest: SnapshotManifest, progress: ProgressLine): Promise<void> {
  for (const n of manifest.nodes) {
    progress(`stage etcd's data and the volumes on ${n.name}`);
    await driver.exec(n.name, ["rm", "-rf", RESTORE_DIR]);
    for (const part of Object.keys(NODE_PARTS) as NodePart[]) {
      const file = path.join(dir, nodeFile(n.name, part));
      if (await fs.stat(file).catch(() => undefined)) await driver.copyFileIn(n.name, file, `${RESTORE_DIR}/${part}`);
    }
    await driver.copyFiles(n.name, [
      { path: RESTORE_HOOK_PATH, content: restoreHook(), mode: 0o755 },
      { path: RESTORE_READY, content: manifest.name + "\n" },
    ]);
  }
}
