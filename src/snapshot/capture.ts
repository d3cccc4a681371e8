import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import * as tar from "tar";
import type { ClusterState } from "../cluster/state.js";
import { runningNodes } from "../cluster/running-nodes.js";
import type { NodeDriver, NodeInfo } from "../drivers/types.js";
import { nodeRuntime } from "../config/index.js";
import { exportNodeImages, nodeImagesOf } from "../node/images.js";
import { runtimeImages, type RuntimeImageStore } from "../node/runtime/index.js";
import type { ProgressLine } from "../util/progress.js";
import { NODE_PARTS, type NodePart } from "./node-parts.js";
import { guardPause } from "./pause-guard.js";
import { preloadedImages } from "./preloaded.js";
import { nodeFile, type SnapshotNode } from "./store.js";

const IMAGES_IN_NODE = "/var/lib/kubeyard/snapshot-images.tar";

/**
 * Writes into `dir` each node's images that its node image does not hold, then each node's folders
 * (NODE_PARTS) with every node paused: the engine's pause freezes all processes at once, so etcd's
 * data and the volumes' files are of one instant, as after a power cut, which etcd recovers from by
 * design. An etcd snapshot taken while the cluster runs would be consistent for etcd alone, not with
 * the volumes. The pause lasts as long as copying the folders out.
 */
export async function captureNodes(
  driver: NodeDriver,
  state: ClusterState,
  dir: string,
  progress: ProgressLine,
  withEtcdData?: (node: string, file: string) => Promise<void>,
): Promise<{ nodes: SnapshotNode[]; pausedMs: number }> {
  const nodes = await runningNodes(driver, state.name);
  const preloaded = preloadedImages(state.config.kubernetesVersion);
  const runtime = runtimeImages(nodeRuntime(state.config));
  const out: SnapshotNode[] = [];
  for (const n of nodes) {
    progress(`images of ${n.name}`);
    const refs = (await nodeImagesOf(driver, n.name, runtime)).map((i) => i.ref).filter((r) => !preloaded.has(r));
    if (refs.length) await saveNodeImages(driver, runtime, n.name, refs, dir);
    out.push({ name: n.name, role: n.role === "control-plane" ? "control-plane" : "worker", images: refs });
  }
  const present = await Promise.all(nodes.map((n) => presentParts(driver, n)));
  progress(`pause ${nodes.length} node${nodes.length === 1 ? "" : "s"} and copy etcd's data and the volumes`);
  const guard = guardPause(
    driver.name,
    nodes.map((n) => n.name),
  );
  const pausedAt = performance.now();
  await Promise.all(nodes.map((n) => driver.pauseNode(n.name)));
  let pausedMs = 0;
  try {
    for (const [i, n] of nodes.entries()) {
      for (const part of present[i]!) await copyPart(driver, n.name, part, rawFile(path.join(dir, nodeFile(n.name, part))));
    }
  } finally {
    // Control planes first: the kubelets then find an API server that answers.
    for (const role of ["control-plane", "worker"]) {
      await Promise.all(nodes.filter((n) => n.role === role).map((n) => driver.unpauseNode(n.name)));
    }
    guard.release();
    pausedMs = performance.now() - pausedAt;
  }
  // Compressed once the nodes run again: the pause lasts only as long as the copy. The first control
  // plane's etcd data goes first, so that `withEtcdData` overlaps with compressing the rest.
  progress("compress etcd's data and the volumes");
  const files = nodes.flatMap((n, i) => present[i]!.map((part) => ({ node: n, part, file: path.join(dir, nodeFile(n.name, part)) })));
  const first = files.findIndex((f) => f.part === "etcd.tar.gz" && f.node.role === "control-plane");
  if (first > 0) files.unshift(...files.splice(first, 1));
  let reading: Promise<void> | undefined;
  for (const f of files) {
    await compress(rawFile(f.file), f.file);
    if (withEtcdData && !reading && f.part === "etcd.tar.gz") {
      reading = withEtcdData(f.node.name, f.file);
      reading.catch(() => undefined);
    }
  }
  await reading;
  return { nodes: out, pausedMs };
}

async function saveNodeImages(driver: NodeDriver, runtime: RuntimeImageStore, node: string, refs: string[], dir: string): Promise<void> {
  await exportNodeImages(driver, node, refs, IMAGES_IN_NODE, runtime);
  try {
    // The engine hands the file over as a one-entry tar, unpacked beside where it belongs.
    const file = path.join(dir, nodeFile(node, "images.tar"));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await pipeline(await driver.readArchive(node, IMAGES_IN_NODE), tar.x({ cwd: path.dirname(file), strict: true }));
    await fs.rename(path.join(path.dirname(file), path.basename(IMAGES_IN_NODE)), file);
  } finally {
    await driver.exec(node, ["rm", "-f", IMAGES_IN_NODE]);
  }
}

async function presentParts(driver: NodeDriver, node: NodeInfo): Promise<NodePart[]> {
  const parts = Object.keys(NODE_PARTS) as NodePart[];
  const has = await Promise.all(parts.map(async (p) => (await driver.exec(node.name, ["test", "-d", NODE_PARTS[p]])).exitCode === 0));
  return parts.filter((_, i) => has[i]);
}

async function copyPart(driver: NodeDriver, node: string, part: NodePart, file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await pipeline(await driver.readArchive(node, NODE_PARTS[part]), createWriteStream(file, { mode: 0o600 }));
}

/** Where a part is copied before it is compressed. */
const rawFile = (gz: string) => gz.replace(/\.gz$/, "");

async function compress(raw: string, gz: string): Promise<void> {
  await pipeline(createReadStream(raw), createGzip({ level: 1 }), createWriteStream(gz, { mode: 0o600 }));
  await fs.rm(raw);
}
