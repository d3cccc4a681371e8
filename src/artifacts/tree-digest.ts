import { promises as fs } from "node:fs";
import path from "node:path";
import { hashFile } from "./checksum.js";

/** One file of a folder whose contents a manifest vouches for. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** Every file under `dir` (relative POSIX paths, sorted) with its size and sha256, read from disk. */
export async function digestTree(dir: string, except: readonly string[] = []): Promise<Record<string, FileDigest>> {
  const out: Record<string, FileDigest> = {};
  for (const f of await listFiles(dir)) if (!except.includes(f)) out[f] = await digestFile(path.join(dir, f));
  return out;
}

/**
 * How `dir` differs from what `files` records (`except`: files the record does not list, such as the
 * manifest itself): each missing, unlisted or changed file, in words; empty when it matches.
 */
export async function treeProblems(dir: string, files: Record<string, FileDigest>, except: readonly string[] = []): Promise<string[]> {
  const found = (await listFiles(dir)).filter((f) => !except.includes(f));
  const problems = [
    ...Object.keys(files)
      .filter((f) => !found.includes(f))
      .map((f) => `${f} is missing`),
    ...found.filter((f) => !files[f]).map((f) => `${f} is not in its manifest`),
  ];
  if (problems.length) return problems;
  for (const [f, want] of Object.entries(files)) {
    const got = await digestFile(path.join(dir, f));
    if (got.sha256 !== want.sha256 || got.bytes !== want.bytes) problems.push(`${f} does not match its checksum`);
  }
  return problems;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
  }
  return out.sort();
}

async function digestFile(file: string): Promise<FileDigest> {
  return { bytes: (await fs.stat(file)).size, sha256: await hashFile(file, "sha256") };
}
