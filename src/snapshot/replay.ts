import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { CONTROLLER_MANAGER_LEASE } from "../components/kube-controller-manager.js";
import type { NodeDriver } from "../drivers/types.js";
import { etcdJson } from "../node/etcd-json.js";
import { UserError } from "../util/errors.js";
import type { ProgressLine } from "../util/progress.js";
import { REGISTRY_RANGE, replayTxn, stateKeys, withLiveKeys, type EtcdKv } from "./etcd-keys.js";
import { NODE_PARTS, RESTORE_DIR, type NodePart } from "./node-parts.js";
import { readStateKeys } from "./saved-keys.js";
import { restoreImages, type NodeTarget } from "./stage.js";
import { nodeFile, type SnapshotManifest } from "./store.js";

const VOLUMES: NodePart = "volumes.tar.gz";
const VOLUMES_DIR = NODE_PARTS[VOLUMES];
/** Where the saved volumes wait, unpacked, on the same filesystem: putting them in place is a rename. */
const STAGED = `${RESTORE_DIR}/volumes`;
/** How often the transaction is tried again when the cluster wrote a state key between the read and it. */
const ATTEMPTS = 5;

/**
 * Restores a snapshot into its own running cluster without restarting the nodes, etcd or the API
 * servers: the images go into the runtimes, the kubelets and the controller managers stop
 * (STOP_CONTROLLER_MANAGER says why), one etcd transaction turns the objects into the saved ones (the
 * API servers see it as ordinary changes, with newer resource versions, so no cache holds anything
 * stale), the pods outside kube-system are killed and the saved
 * volumes put in place, and the kubelets start again: they run the saved pods afresh on the saved
 * volumes, with no crash back-off carried over. kube-system's pods keep running where the snapshot has
 * them too: they hold no state of their own, only what they read from the API.
 *
 * `savedReadyWorkloads` names the pods to wait for afterwards, asked right after the transaction
 * (workloads-back.ts). Returns undefined, having changed no object, for a snapshot without its keys
 * (saved by an earlier kubeyard) or a cluster whose etcd refuses a transaction this large (made before
 * kubeyard raised etcd's limits): the caller then restores by restarting the nodes.
 *
 * Into a copy (`start --from-snapshot`), each saved node's parts go to its counterpart, `copy.target`,
 * and the keys `copy.own` names stay as the copy made them (its Nodes, its addresses).
 */
export async function replayInPlace(
  driver: NodeDriver,
  snap: { dir: string; manifest: SnapshotManifest },
  progress: ProgressLine,
  savedReadyWorkloads: () => Promise<string[]>,
  copy?: { target: NodeTarget; own: (key: string) => boolean },
): Promise<Restarted | undefined> {
  const saved = await readStateKeys(snap.dir);
  if (!saved) return undefined;
  const target = copy?.target ?? ((n: string) => n);
  const nodes = snap.manifest.nodes.map((n) => target(n.name));
  const cps = snap.manifest.nodes.filter((n) => n.role === "control-plane").map((n) => target(n.name));
  const cp = cps[0]!;
  // Staging and stopping overlap: the pods run on until the transaction, whatever the kubelet does.
  progress(`stage the images and volumes; stop the kubelet${nodes.length === 1 ? "" : "s"}`);
  try {
    await Promise.all([
      restoreImages(driver, snap.dir, snap.manifest, progress, target),
      ...snap.manifest.nodes.map((n) => stageVolumes(driver, target(n.name), path.join(snap.dir, nodeFile(n.name, VOLUMES)))),
      ...nodes.map((node) => inNode(driver, node, cps.includes(node) ? `${STOP_KUBELET}\n${STOP_CONTROLLER_MANAGER}` : STOP_KUBELET)),
    ]);
    progress("replace the objects in etcd");
    if (!(await applyState(driver, cp, saved, progress, copy?.own))) return undefined;
    const pods = await savedReadyWorkloads();
    progress("restart the workloads on the saved volumes");
    const sinceMs = Date.now();
    await Promise.all(nodes.map((node) => inNode(driver, node, RESTART_WORKLOADS)));
    return { pods, sinceMs };
  } finally {
    progress(`start the kubelet${nodes.length === 1 ? "" : "s"}`);
    await Promise.all(nodes.map((node) => inNode(driver, node, START_KUBELET)));
  }
}

/** The pods a restore in place restarted that the snapshot has Ready (workloads-back.ts), and when. */
export interface Restarted {
  pods: string[];
  sinceMs: number;
}

/** The transaction of etcd-keys.ts against the live keys, read again while something else wrote. */
async function applyState(
  driver: NodeDriver,
  cp: string,
  saved: Map<string, string>,
  progress: ProgressLine,
  own?: (key: string) => boolean,
): Promise<boolean> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const range = await etcdJson<{ header: { revision: string }; kvs?: EtcdKv[] }>(driver, cp, "/v3/kv/range", REGISTRY_RANGE);
    const live = stateKeys(range.kvs ?? []);
    const txn = replayTxn(own ? withLiveKeys(saved, live, own) : saved, live, range.header.revision);
    if (!txn.success.length) return true;
    let answer: { succeeded?: boolean };
    try {
      answer = await etcdJson(driver, cp, "/v3/kv/txn", { compare: txn.compare, success: [...txn.success, RELEASE_CONTROLLER_LEASE] });
    } catch (err) {
      if (err instanceof UserError && /too many operations|request is too large/.test(err.message)) {
        progress(`etcd refused the transaction (${err.message}); restoring by restarting the nodes`);
        return false;
      }
      throw err;
    }
    if (answer.succeeded) {
      progress(`${txn.puts} object${txn.puts === 1 ? "" : "s"} written, ${txn.deletes} removed`);
      return true;
    }
  }
  throw new UserError(`the cluster kept changing its objects during ${ATTEMPTS} attempts to restore them`, "Restore again.");
}

/** Unpacks a node's saved volumes beside where they belong, streamed from the snapshot: no copy of the archive lands in the node. */
async function stageVolumes(driver: NodeDriver, node: string, file: string): Promise<void> {
  await driver.exec(node, ["rm", "-rf", RESTORE_DIR]);
  if (!(await fs.stat(file).catch(() => undefined))) return;
  const r = await driver.exec(node, ["bash", "-c", `mkdir -p ${STAGED} && tar -C ${STAGED} -xzpf -`], { stdin: createReadStream(file) });
  if (r.exitCode !== 0) throw new UserError(`staging the saved volumes on ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

async function inNode(driver: NodeDriver, node: string, script: string): Promise<void> {
  const r = await driver.exec(node, ["bash", "-c", script]);
  if (r.exitCode !== 0) throw new UserError(`restoring on ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

const KUBELET = "/etc/service/kubelet";
/** A restore killed while the kubelet is down must not leave it down: this watchdog starts it after a minute. */
const WATCHDOG = "/run/kubeyard-restore-watchdog";

const STOP_KUBELET = [
  "set -euo pipefail",
  `setsid -f bash -c 'echo $$ > ${WATCHDOG}; sleep 60; sv up ${KUBELET}' </dev/null >/dev/null 2>&1`,
  `sv -w 30 down ${KUBELET} >/dev/null`,
].join("\n");

const START_KUBELET = [
  "set -euo pipefail",
  `sv up ${KUBELET}`,
  `[ ! -f ${WATCHDOG} ] || kill "$(cat ${WATCHDOG})" 2>/dev/null || true`,
  `rm -f ${WATCHDOG}`,
  "for _ in $(seq 300); do curl -sf http://127.0.0.1:10248/healthz >/dev/null && exit 0; sleep 0.1; done",
  'echo "the kubelet did not answer within 30 s of its restart" >&2',
  "exit 1",
].join("\n");

/**
 * The controller managers stop with the kubelets and start afresh with them, so none runs while the
 * transaction swaps the objects. A controller that watched it would see objects of one name come back
 * with another UID (the copy's own kube-proxy DaemonSet and CoreDNS ReplicaSet, or any workload made
 * again since the save), and could wait for pods it made under the old UID, which it then never sees
 * as its own: the DaemonSet and ReplicaSet controllers wait 5 minutes for such pods before acting again.
 * A fresh one lists the objects as they are. Its leader lease goes with the transaction, so with several
 * control planes the first to start leads at once rather than after the dead leader's lease runs out.
 */
const STOP_CONTROLLER_MANAGER = killContainers(running("--label io.kubernetes.container.name=kube-controller-manager")).join("\n");
const RELEASE_CONTROLLER_LEASE = {
  request_delete_range: {
    key: Buffer.from(`/registry/leases/${CONTROLLER_MANAGER_LEASE.namespace}/${CONTROLLER_MANAGER_LEASE.name}`).toString("base64"),
  },
};

/** A shell command printing the IDs of the running containers `crictl ps` picks with `filter`. */
function running(filter = ""): string {
  return `crictl ps --quiet --state running ${filter}`.trimEnd();
}

/**
 * Shell lines that kill the containers whose IDs `ids` prints, through the CRI: the same on either
 * runtime. A stop with no grace period is a SIGKILL, and crictl returns once the container has exited;
 * crictl's own deadline for a request (2 s by default) is raised for a node slowed by the restore's
 * other work.
 */
function killContainers(ids: string): string[] {
  return [`ids=$(${ids})`, '[ -z "$ids" ] || crictl --timeout 60s stop --timeout 0 $ids >/dev/null'];
}

/**
 * Kills the containers of every pod outside kube-system (the kubelet's static pods, kubeyard's, are all
 * in kube-system; the kubelet is stopped, so none starts meanwhile), waits until they are gone, and puts
 * the staged volumes in place (none staged: the snapshot's node had none).
 */
const RESTART_WORKLOADS = [
  "set -euo pipefail",
  ...killContainers(`comm -23 <(${running()} | sort) <(${running("--namespace '^kube-system$'")} | sort)`),
  `rm -rf ${VOLUMES_DIR}`,
  `[ ! -d ${STAGED}/${path.posix.basename(VOLUMES_DIR)} ] || mv ${STAGED}/${path.posix.basename(VOLUMES_DIR)} ${path.posix.dirname(VOLUMES_DIR)}/`,
  `rm -rf ${RESTORE_DIR}`,
].join("\n");
