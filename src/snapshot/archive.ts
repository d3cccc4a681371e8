import { promises as fs } from "node:fs";
import path from "node:path";
import * as tar from "tar";
import { replaceFile } from "../util/atomic-write.js";
import { UserError } from "../util/errors.js";
import {
  findSnapshot,
  readManifest,
  refuseTaken,
  snapshotDir,
  snapshotsDir,
  stagingDir,
  verifySnapshot,
  type SnapshotManifest,
} from "./store.js";

/** Writes the snapshot as one tar file (its folder, named as the snapshot), checked first; a killed export leaves FILE untouched. */
export async function exportSnapshot(name: string, file: string): Promise<SnapshotManifest> {
  const manifest = await findSnapshot(name);
  await verifySnapshot(snapshotDir(name), manifest, `snapshot "${name}"`);
  await replaceFile(file, (temp) => tar.c({ file: temp, cwd: snapshotsDir(), portable: true }, [name]));
  return manifest;
}

/**
 * Unpacks an exported snapshot beside the others and checks every file against its manifest before
 * it becomes a snapshot; a damaged or foreign file, or a name already taken, changes nothing.
 */
export async function importSnapshot(file: string): Promise<SnapshotManifest> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) throw new UserError(`${file} is not a file`, "Give the path of a file `kubeyard snapshot export` wrote.");
  const staging = await stagingDir("import");
  try {
    await tar.x({ file, cwd: staging, strict: true }).catch((err: Error) => {
      throw new UserError(
        `${file} is not a kubeyard snapshot: ${err.message}`,
        "Give the path of a file `kubeyard snapshot export` wrote.",
      );
    });
    const top = await fs.readdir(staging);
    if (top.length !== 1) throw new UserError(`${file} is not a kubeyard snapshot: it should hold one folder, not ${top.length}`);
    const dir = path.join(staging, top[0]!);
    const manifest = await readManifest(dir, file);
    if (manifest.name !== top[0]) throw new UserError(`${file} is damaged: its folder ${top[0]} holds snapshot "${manifest.name}"`);
    await verifySnapshot(dir, manifest, file);
    await refuseTaken(manifest.name);
    await fs.rename(dir, snapshotDir(manifest.name));
    return manifest;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
