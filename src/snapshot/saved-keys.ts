import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type { NodeDriver } from "../drivers/types.js";
import { etcdJson } from "../node/etcd-json.js";
import { UserError } from "../util/errors.js";
import { REGISTRY_RANGE, stateKeys, type EtcdKv } from "./etcd-keys.js";
import { NODE_PARTS } from "./node-parts.js";

/**
 * The snapshot's objects as etcd keys (etcd-keys.ts), read from the saved etcd data itself: a restore
 * into the running cluster writes them in one transaction instead of restarting the nodes.
 */
export const KEYS_FILE = "etcd-keys.json.gz";

export interface SavedKeys {
  /** The saved data's revision when it was read. */
  revision: string;
  kvs: { key: string; value: string }[];
}

const WORK_DIR = "/var/lib/kubeyard/saved-etcd";
const ENDPOINT = "http://127.0.0.1:2390";

/**
 * Starts a private etcd member in `node` (the node's own etcd, alone: --force-new-cluster on a copy) on
 * the saved data `etcdPart`, reads its state keys into `file`, and removes it. The data is the copy taken
 * while the nodes were paused, so the keys are of the same instant as the volumes.
 */
export async function saveStateKeys(driver: NodeDriver, node: string, etcdPart: string, file: string): Promise<void> {
  const dataDir = path.posix.basename(NODE_PARTS["etcd.tar.gz"]);
  await driver.copyFileIn(node, etcdPart, `${WORK_DIR}/etcd.tar.gz`);
  try {
    const up = await driver.exec(node, ["bash", "-c", START, "start", WORK_DIR, dataDir, ENDPOINT]);
    if (up.exitCode !== 0) throw new UserError(`reading the saved etcd data on ${node} failed: ${up.stderr.trim() || up.stdout.trim()}`);
    const range = await etcdJson<{ header: { revision: string }; kvs?: EtcdKv[] }>(driver, node, "/v3/kv/range", REGISTRY_RANGE, ENDPOINT);
    const saved: SavedKeys = {
      revision: range.header.revision,
      kvs: [...stateKeys(range.kvs ?? [])].map(([key, value]) => ({ key, value })),
    };
    await fs.writeFile(file, await promisify(gzip)(JSON.stringify(saved)), { mode: 0o600 });
  } finally {
    await driver.exec(node, ["bash", "-c", STOP, "stop", WORK_DIR]);
  }
}

/** Whether a snapshot holds its objects' keys (one saved by an earlier kubeyard does not). */
export async function hasStateKeys(dir: string): Promise<boolean> {
  return fs.stat(path.join(dir, KEYS_FILE)).then(
    () => true,
    () => false,
  );
}

/** A snapshot's state keys; undefined for a snapshot saved before kubeyard wrote them. */
export async function readStateKeys(dir: string): Promise<Map<string, string> | undefined> {
  const raw = await fs.readFile(path.join(dir, KEYS_FILE)).catch(() => undefined);
  if (!raw) return undefined;
  const saved = JSON.parse((await promisify(gunzip)(raw)).toString("utf8")) as SavedKeys;
  return new Map(saved.kvs.map((kv) => [kv.key, kv.value]));
}

// A member left by a save killed half-way is removed first.
const STOP = [
  'if [ -f "$1/pid" ]; then',
  '  pid=$(cat "$1/pid")',
  '  kill -9 "$pid" 2>/dev/null || true',
  '  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done',
  "fi",
  'rm -rf "$1/data" "$1/pid"',
].join("\n");

// The node's own etcd binary (the version of its etcd image), as a process of the node's rather than a
// container: the same on either runtime. Its output goes to a file, so that the exec returns while it runs.
const START = [
  "set -euo pipefail",
  "dir=$1 data=$2 endpoint=$3",
  STOP,
  'mkdir -p "$dir/data" && tar -C "$dir/data" -xzf "$dir/etcd.tar.gz" && rm -f "$dir/etcd.tar.gz"',
  '/usr/local/bin/etcd --data-dir "$dir/data/$data" --force-new-cluster --log-level error \\',
  '  --listen-client-urls "$endpoint" --advertise-client-urls "$endpoint" --listen-peer-urls http://127.0.0.1:2391 \\',
  '  </dev/null >"$dir/etcd.log" 2>&1 &',
  'echo $! >"$dir/pid"',
  'for _ in $(seq 300); do curl -sf "$endpoint/health" >/dev/null && exit 0; sleep 0.1; done',
  'echo "the saved etcd data did not answer within 30 s: $(tail -c 2000 "$dir/etcd.log")" >&2',
  "exit 1",
].join("\n");
