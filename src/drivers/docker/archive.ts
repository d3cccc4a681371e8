import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { Header, Pack, ReadEntry } from "tar";
import type { FileToCopy } from "../types.js";

/**
 * Paths that are tmpfs mounts in a node. The engine unpacks an archive into the container's root
 * filesystem as seen from outside, beneath those mounts, so files put there would be silently hidden.
 */
const TMPFS_MOUNTS = ["/run", "/tmp"];

/**
 * A tar of `files`, built in memory so that key material never lands on the host's disk. Entries are
 * owned by root with the given mode (0644 by default). Only the files themselves are archived: the
 * engine creates missing parent directories (root, 0755) and leaves existing ones, their mode and
 * owner untouched, which an archived directory entry would overwrite.
 */
export async function tarOfFiles(files: readonly FileToCopy[], mtime = new Date()): Promise<Buffer> {
  const pack = new Pack({ portable: false });
  const done = pack.concat();
  for (const file of files) {
    const rel = relativeTarPath(file.path);
    const body = typeof file.content === "string" ? Buffer.from(file.content) : file.content;
    const header = new Header({
      path: rel,
      type: "File",
      mode: file.mode ?? 0o644,
      size: body.length,
      uid: 0,
      gid: 0,
      uname: "root",
      gname: "root",
      mtime,
    });
    const entry = new ReadEntry(header);
    pack.add(entry);
    entry.end(body);
  }
  pack.end();
  return done;
}

/**
 * A tar stream holding the host file `hostFile` as `nodePath` (root, 0644), read from disk as the
 * engine consumes it: an image archive of gigabytes never sits in memory.
 */
export async function tarOfHostFile(hostFile: string, nodePath: string): Promise<NodeJS.ReadableStream> {
  const rel = relativeTarPath(nodePath);
  const { size, mtime } = await fs.stat(hostFile);
  const pack = new Pack({ portable: false });
  const header = new Header({ path: rel, type: "File", mode: 0o644, size, uid: 0, gid: 0, uname: "root", gname: "root", mtime });
  const entry = new ReadEntry(header);
  pack.add(entry);
  pack.end();
  const source = createReadStream(hostFile);
  source.on("data", (chunk) => {
    if (!entry.write(chunk as Buffer)) {
      source.pause();
      entry.once("drain", () => source.resume());
    }
  });
  source.on("end", () => entry.end());
  source.on("error", (err) => pack.emit("error", err));
  return pack as unknown as NodeJS.ReadableStream;
}

function relativeTarPath(p: string): string {
  if (!path.posix.isAbsolute(p) || path.posix.normalize(p) !== p || p.endsWith("/")) {
    throw new Error(`file to copy into a node needs a normalized absolute path, got ${JSON.stringify(p)}`);
  }
  const tmpfs = TMPFS_MOUNTS.find((m) => p === m || p.startsWith(`${m}/`));
  if (tmpfs) {
    throw new Error(`cannot copy ${p} into a node: ${tmpfs} is a tmpfs there, which the engine's copy cannot reach`);
  }
  return p.slice(1);
}
