import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { isProcessAlive } from "./process-alive.js";

export interface AtomicWriteOptions {
  mode?: number;
}

/**
 * Replaces `file` with `data` so that a reader, or a crash at any instant, sees either the old
 * complete file or the new one. A symlinked file (a kubeconfig kept in a dotfiles repo) is written
 * through, so the link survives.
 */
export async function writeFileAtomic(file: string, data: string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  await replaceFile(file, async (temp) => {
    const handle = await fs.open(temp, "wx", mode);
    try {
      await handle.writeFile(data, "utf8");
      // The umask can only clear bits, but an inherited ACL default could add some: be exact.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Replaces `file` with what `write` puts into a temp file beside it (fsynced by `write` if it must
 * be), then renames it over `file`: `file` is either as it was or complete. The temp file goes if
 * `write` fails; one left by a killed writer is taken away by the next `replaceFile` of that file.
 */
export async function replaceFile(file: string, write: (temp: string) => Promise<void>): Promise<void> {
  const target = await resolveLink(file);
  const dir = path.dirname(target);
  await removeStaleTemps(target);
  const temp = path.join(dir, `${tempPrefix(target)}${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await write(temp);
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

async function resolveLink(file: string): Promise<string> {
  try {
    return await fs.realpath(file);
  } catch {
    // Missing (or a dangling link): there is nothing to write through.
    return file;
  }
}

// Makes the rename itself durable. Not every platform can open a directory (Windows cannot), and
// the write has already succeeded, so failure here is not an error.
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort.
  }
}

/** Deletes temp files that writers of `file` killed mid-write left beside it; a live writer's are left alone. */
async function removeStaleTemps(file: string): Promise<void> {
  const target = await resolveLink(file);
  const dir = path.dirname(target);
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    await fs.rm(path.join(dir, name), { force: true });
  }
}

function tempPrefix(target: string): string {
  return `.${path.basename(target)}.`;
}
