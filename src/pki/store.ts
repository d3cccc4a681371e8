import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { fileMode, rootMaterial, type PkiBundle } from "./layout.js";
import { UserError } from "../util/errors.js";

const PKI_FILE = /\.(crt|key|pub)$/;

/** Bundle paths come from {@link pkiPaths}; anything that could leave `dir` is a bug upstream. */
function checkRelative(relativePath: string): void {
  const normal = path.posix.normalize(relativePath);
  if (normal !== relativePath || path.posix.isAbsolute(normal) || normal.startsWith("../") || !PKI_FILE.test(normal)) {
    throw new Error(`refusing to write PKI file outside the PKI layout: ${JSON.stringify(relativePath)}`);
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes `content` to a temp file beside `target` and renames it over, so readers never see half a key. */
async function writeAtomic(target: string, content: string, mode: number): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.chmod(mode); // open's mode is filtered by the umask; the final mode must not be.
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes every file of `bundle` under `dir`: keys 0600, certificates 0644, new directories 0700,
 * each file atomically. Files with identical content are left in place (only their mode is fixed).
 * Refuses, before writing anything, to replace a CA or the service-account key with different
 * content: a cluster's roots never change after creation.
 */
export async function writePki(dir: string, bundle: PkiBundle): Promise<void> {
  const entries = Object.entries(bundle);
  entries.forEach(([relativePath]) => checkRelative(relativePath));
  for (const [relativePath, content] of entries) {
    if (!rootMaterial.includes(relativePath)) continue;
    const existing = await readIfExists(path.join(dir, relativePath));
    if (existing !== undefined && existing !== content) {
      throw new UserError(
        `refusing to replace ${relativePath} in ${dir}: the cluster's CAs and service-account key must never change`,
        "issue new certificates from the existing CAs (load them with loadPki and casFromBundle), or delete the cluster first",
      );
    }
  }
  // Roots last: a first write interrupted early leaves no root file at all, so the next run starts
  // over cleanly instead of finding half a set of CAs.
  entries.sort(([a], [b]) => Number(rootMaterial.includes(a)) - Number(rootMaterial.includes(b)));
  const touchedDirs = new Set<string>();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [relativePath, content] of entries) {
    const target = path.join(dir, relativePath);
    const mode = fileMode(relativePath);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    if ((await readIfExists(target)) === content) {
      await chmod(target, mode);
      continue;
    }
    await writeAtomic(target, content, mode);
    touchedDirs.add(path.dirname(target));
  }
  // Make the renames themselves durable before anyone is told the PKI exists.
  await Promise.all([...touchedDirs].map(syncDir));
}

/** Reads a PKI directory back into a bundle; an empty bundle when the directory does not exist. */
export async function loadPki(dir: string): Promise<PkiBundle> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  const files = names
    .map((name) => name.split(path.sep).join("/"))
    .filter((name) => PKI_FILE.test(name) && !path.posix.basename(name).startsWith("."))
    .sort();
  const contents = await Promise.all(files.map((name) => readFile(path.join(dir, name), "utf8")));
  return Object.fromEntries(files.map((name, i) => [name, contents[i]!]));
}
