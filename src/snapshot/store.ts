import { promises as fs } from "node:fs";
import path from "node:path";
import type { ClusterState } from "../cluster/state.js";
import { treeProblems, type FileDigest } from "../artifacts/tree-digest.js";
import { UserError } from "../util/errors.js";
import { stateDir } from "../util/paths.js";
import { isProcessAlive } from "../util/process-alive.js";
import type { ContainerRuntime } from "../config/index.js";
import type { NodePart } from "./node-parts.js";

export const FORMAT = 1;
export const MANIFEST = "manifest.json";
/** The cluster record as it was, beside the manifest. */
export const STATE_FILE = "cluster.json";
/** The profile's PKI folder, copied whole. */
export const PKI = "pki";

/** What one node contributes: files under nodes/NAME/ (its NODE_PARTS and images.tar, each when it had some). */
export interface SnapshotNode {
  name: string;
  role: "control-plane" | "worker";
  /** The images saved from its runtime (those the node image does not hold). */
  images: string[];
}

/** The runtime of the cluster a snapshot was saved from: its images are that runtime's. */
export function snapshotRuntime(manifest: Pick<SnapshotManifest, "runtime">): ContainerRuntime {
  return manifest.runtime ?? "containerd";
}

export interface SnapshotManifest {
  format: number;
  name: string;
  profile: string;
  kubernetesVersion: string;
  /** Absent in snapshots saved before clusters of CRI-O could be saved: those are of containerd. */
  runtime?: ContainerRuntime;
  createdAt: string;
  nodes: SnapshotNode[];
  addons: string[];
  /** How long the save held the nodes paused. */
  pausedMs: number;
  /** Every file of the snapshot but the manifest, with its size and sha256. */
  files: Record<string, FileDigest>;
}

const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

/** A snapshot name is a folder and a file name: lower-case letters, digits, '.', '_' and '-'. */
export function checkSnapshotName(name: string): void {
  if (!NAME.test(name)) {
    throw new UserError(
      `"${name}" is not a snapshot name`,
      "Use 1 to 63 lower-case letters, digits, '.', '_' or '-', beginning and ending with a letter or digit.",
    );
  }
}

export function snapshotsDir(): string {
  return path.join(stateDir(), "snapshots");
}

export function snapshotDir(name: string): string {
  return path.join(snapshotsDir(), name);
}

/** The file of a node's part: `nodes/NODE/FILE`. */
export function nodeFile(node: string, file: NodePart | "images.tar"): string {
  return path.posix.join("nodes", node, file);
}

export async function readManifest(dir: string, what: string): Promise<SnapshotManifest> {
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), "utf8")) as SnapshotManifest;
  } catch {
    throw new UserError(`${what} is not a kubeyard snapshot: it has no readable ${MANIFEST}`);
  }
  if (manifest.format !== FORMAT) {
    throw new UserError(`${what} is a snapshot of format ${String(manifest.format)}; this kubeyard reads format ${FORMAT}`);
  }
  return manifest;
}

/** The snapshot called `name`; the user's error when there is none. */
export async function findSnapshot(name: string): Promise<SnapshotManifest> {
  checkSnapshotName(name);
  const dir = snapshotDir(name);
  if (!(await exists(dir))) {
    throw new UserError(`there is no snapshot "${name}"`, "`kubeyard snapshot list` shows the snapshots there are.");
  }
  return readManifest(dir, `snapshot "${name}"`);
}

/** Fails, saying what is wrong, unless every file of the snapshot folder is the one its manifest records. */
export async function verifySnapshot(dir: string, manifest: SnapshotManifest, what: string): Promise<void> {
  const problems = await treeProblems(dir, manifest.files, [MANIFEST]);
  if (problems.length) throw new UserError(`${what} is damaged: ${problems.join("; ")}`, "Save or export it again.");
}

export async function readSnapshotState(name: string): Promise<ClusterState> {
  return JSON.parse(await fs.readFile(path.join(snapshotDir(name), STATE_FILE), "utf8")) as ClusterState;
}

export async function listSnapshots(): Promise<(SnapshotManifest & { bytes: number })[]> {
  const names = (await fs.readdir(snapshotsDir()).catch(() => [] as string[])).filter((n) => NAME.test(n));
  const out: (SnapshotManifest & { bytes: number })[] = [];
  for (const n of names.sort()) {
    const m = await readManifest(snapshotDir(n), n).catch(() => undefined);
    if (m) out.push({ ...m, bytes: Object.values(m.files).reduce((sum, f) => sum + f.bytes, 0) });
  }
  return out;
}

/** Fails before anything is written when `name` is taken. */
export async function refuseTaken(name: string): Promise<void> {
  if (await exists(snapshotDir(name))) {
    throw new UserError(
      `a snapshot "${name}" exists already`,
      `Choose another name, or remove it first: \`kubeyard snapshot rm ${name}\`.`,
    );
  }
}

/**
 * A folder to build a snapshot in, beside the snapshots and never read as one (its name starts with a
 * dot): `commit` renames it into place, so a killed save or import leaves no half snapshot. Folders
 * of processes that died are removed first.
 */
export async function stagingDir(name: string): Promise<string> {
  await fs.mkdir(snapshotsDir(), { recursive: true, mode: 0o700 });
  for (const n of await fs.readdir(snapshotsDir())) {
    const pid = /^\.partial-.+-(\d+)$/.exec(n)?.[1];
    if (pid && !isProcessAlive(Number(pid))) await fs.rm(path.join(snapshotsDir(), n), { recursive: true, force: true });
  }
  const dir = path.join(snapshotsDir(), `.partial-${name}-${process.pid}`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { mode: 0o700 });
  return dir;
}

export async function commitSnapshot(staging: string, manifest: SnapshotManifest): Promise<void> {
  await fs.writeFile(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
  await refuseTaken(manifest.name);
  await fs.rename(staging, snapshotDir(manifest.name));
}

export async function removeSnapshot(name: string): Promise<void> {
  await findSnapshot(name);
  // Renamed away first, so a killed rm leaves no snapshot that lacks files.
  const doomed = path.join(snapshotsDir(), `.partial-rm-${name}-${process.pid}`);
  await fs.rename(snapshotDir(name), doomed);
  await fs.rm(doomed, { recursive: true, force: true });
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
