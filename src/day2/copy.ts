import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { NodeDriver } from "../drivers/types.js";
import { withFileInNode } from "../node/spool.js";
import { UserError } from "../util/errors.js";

/** Where the archive of a copy waits in a node: on its /var volume, not a tmpfs the engine cannot see beneath. */
const NODE_SPOOL = "/var/lib/kubeyard/cp";

/** `kubeyard cp SRC DST` read: one side is a host path, the other NODE:PATH. */
export type CopyPlan =
  | { direction: "in"; hostPath: string; node: string; nodePath: string }
  | { direction: "out"; node: string; nodePath: string; hostPath: string };

const USAGE =
  "Usage: kubeyard cp HOST_PATH NODE:/PATH, or kubeyard cp NODE:/PATH HOST_PATH (write ./NAME:... for a host path with a colon).";

/** NODE:PATH, with NODE a node name as `kubeyard ssh` takes it (with or without the profile). */
function nodeOperand(text: string): { node: string; path: string } | undefined {
  const m = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?):(.*)$/.exec(text);
  return m ? { node: m[1]!, path: m[2]! } : undefined;
}

export function parseCopyOperands(src: string, dst: string): CopyPlan {
  const from = nodeOperand(src);
  const to = nodeOperand(dst);
  if (from && to) throw new UserError(`kubeyard cp copies between the host and a node, not between nodes (${src} → ${dst})`, USAGE);
  if (!from && !to) throw new UserError(`neither ${src} nor ${dst} names a node (NODE:PATH)`, USAGE);
  const inNode = (from ?? to)!;
  if (!path.posix.isAbsolute(inNode.path)) {
    throw new UserError(`${from ? src : dst}: the path in the node must be absolute`, `For example ${inNode.node}:/data/file.txt.`);
  }
  const nodePath = path.posix.normalize(inNode.path);
  return from
    ? { direction: "out", node: from.node, nodePath, hostPath: dst }
    : { direction: "in", hostPath: src, node: to!.node, nodePath };
}

/**
 * Copies a host file or folder into a node, as `docker cp` does: onto DST, or into DST when DST is a
 * folder there (or ends with "/"). The tree goes over as one tar through the engine and is unpacked
 * by the node's own tar, so files under the node's tmpfs mounts and its mounted folders land too.
 */
export async function copyIntoNode(driver: NodeDriver, node: string, hostPath: string, nodePath: string, asFolder: boolean): Promise<void> {
  const source = path.resolve(hostPath);
  await fs.stat(source).catch(() => {
    throw new UserError(`${hostPath}: no such file or folder on the host`);
  });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kubeyard-cp-"));
  try {
    const archive = path.join(dir, "copy.tar");
    await tar.c({ cwd: path.dirname(source), file: archive, portable: true }, [path.basename(source)]);
    await withFileInNode(driver, node, archive, NODE_SPOOL, async (spool) => {
      const r = await driver.exec(node, ["sh", "-c", UNPACK, "unpack", spool, path.basename(source), nodePath, asFolder ? "1" : ""]);
      if (r.exitCode !== 0) throw new UserError(`copying ${hostPath} to ${node}:${nodePath} failed: ${(r.stderr || r.stdout).trim()}`);
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** $1 the archive, $2 the name in it, $3 the destination, $4 non-empty when the destination is meant as a folder. */
const UNPACK = `set -e
spool=$1 name=$2 dst=$3 tmp=
trap 'rm -f "$spool"; [ -z "$tmp" ] || rm -rf "$tmp"' EXIT
if [ -n "$4" ]; then mkdir -p "$dst"; fi
if [ -d "$dst" ]; then
  tar -x --no-same-owner -C "$dst" -f "$spool"
else
  parent=$(dirname "$dst")
  mkdir -p "$parent"
  tmp=$(mktemp -d "$parent/.kubeyard-cp.XXXXXX")
  tar -x --no-same-owner -C "$tmp" -f "$spool"
  mv -fT "$tmp/$name" "$dst"
fi`;

/**
 * Copies a file or folder out of a node onto the host, as `docker cp` does: onto DST, or into DST when
 * DST is a host folder. It is unpacked beside DST first and renamed into place, so a copy that fails
 * halfway leaves DST as it was.
 */
export async function copyFromNode(driver: NodeDriver, node: string, nodePath: string, hostPath: string): Promise<void> {
  const exists = await driver.exec(node, ["test", "-e", nodePath]);
  if (exists.exitCode !== 0) throw new UserError(`${node}:${nodePath}: no such file or folder in the node`);
  const name = path.posix.basename(nodePath) || ".";
  const dst = path.resolve(hostPath);
  const isDir = (await fs.stat(dst).catch(() => undefined))?.isDirectory() ?? false;
  const into = isDir || hostPath.endsWith("/");
  const parent = into ? dst : path.dirname(dst);
  await fs.mkdir(parent, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(parent, ".kubeyard-cp-"));
  try {
    await pipeline(await driver.readArchive(node, nodePath), tar.x({ cwd: tmp, preserveOwner: false }));
    await fs.rename(path.join(tmp, name), into ? path.join(dst, name) : dst).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOTEMPTY" || err.code === "EEXIST" || err.code === "EISDIR" || err.code === "ENOTDIR") {
        throw new UserError(
          `${into ? path.join(hostPath, name) : hostPath} exists and cannot be replaced by ${node}:${nodePath}`,
          "Remove it first, or copy somewhere else.",
        );
      }
      throw err;
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
