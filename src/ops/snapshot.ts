import { promises as fs } from "node:fs";
import path from "node:path";
import { pkiDir, readState, requireReadyState, withProfileLock, writeState, type ClusterState } from "../cluster/state.js";
import { runningNodes } from "../cluster/running-nodes.js";
import { digestTree } from "../artifacts/tree-digest.js";
import { nodeRuntime, type ClusterConfig } from "../config/index.js";
import type { ClusterDeps } from "../create/context.js";
import { stopCluster } from "../day2/stop.js";
import type { NodeDriver } from "../drivers/types.js";
import { pkiPaths } from "../pki/layout.js";
import { loadPki } from "../pki/store.js";
import type { KubeConfig } from "@kubernetes/client-node";
import { captureNodes } from "../snapshot/capture.js";
import { replayInPlace, type Restarted } from "../snapshot/replay.js";
import { KEYS_FILE, saveStateKeys } from "../snapshot/saved-keys.js";
import { restoreImages, stageRestore, type NodeTarget } from "../snapshot/stage.js";
import {
  checkSnapshotName,
  commitSnapshot,
  findSnapshot,
  FORMAT,
  MANIFEST,
  PKI,
  readSnapshotState,
  refuseTaken,
  snapshotDir,
  snapshotRuntime,
  stagingDir,
  STATE_FILE,
  verifySnapshot,
  type SnapshotManifest,
} from "../snapshot/store.js";
import { UserError } from "../util/errors.js";
import type { ProgressLine } from "../util/progress.js";
import type { StepRunner } from "../create/action.js";
import type { Interrupt } from "./interrupt.js";
import { startCluster } from "./start.js";

/**
 * `kubeyard snapshot save`: everything the cluster is (see captureNodes), its record and PKI, under the
 * profile's lock. Built in a staging folder and renamed into place, so a killed save leaves nothing.
 */
export async function saveSnapshot(driver: NodeDriver, profile: string, name: string, runner: StepRunner): Promise<SnapshotManifest> {
  checkSnapshotName(name);
  await refuseTaken(name);
  let saved: SnapshotManifest | undefined;
  await runner([
    {
      title: `snapshot "${name}" of cluster "${profile}"`,
      run: async (progress) => void (saved = await save(driver, profile, name, progress)),
    },
  ]);
  return saved!;
}

async function save(driver: NodeDriver, profile: string, name: string, progress: ProgressLine): Promise<SnapshotManifest> {
  return withProfileLock(profile, async () => {
    const state = await requireReadyState(profile);
    await runningNodes(driver, profile);
    const staging = await stagingDir(name);
    try {
      const readKeys = (node: string, etcdData: string) => {
        progress("read the objects from the saved etcd data");
        return saveStateKeys(driver, node, etcdData, path.join(staging, KEYS_FILE));
      };
      const { nodes, pausedMs } = await captureNodes(driver, state, staging, progress, readKeys);
      progress("the cluster's record and PKI");
      await fs.cp(pkiDir(profile), path.join(staging, PKI), { recursive: true });
      await fs.writeFile(path.join(staging, STATE_FILE), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
      progress("checksums");
      const manifest: SnapshotManifest = {
        format: FORMAT,
        name,
        profile,
        kubernetesVersion: state.config.kubernetesVersion,
        runtime: nodeRuntime(state.config),
        createdAt: new Date().toISOString(),
        nodes,
        addons: state.addons,
        pausedMs: Math.round(pausedMs),
        files: await digestTree(staging, [MANIFEST]),
      };
      await commitSnapshot(staging, manifest);
      return manifest;
    } catch (err) {
      await fs.rm(staging, { recursive: true, force: true });
      throw err;
    }
  });
}

export interface RestoreUi {
  runner: StepRunner;
  interrupt: Interrupt;
  warn: (text: string) => void;
}

/**
 * `kubeyard snapshot restore`: the snapshot's cluster gets the state it was saved with. A cluster that
 * no longer exists is made again first (same config and CAs). The running cluster then gets the saved
 * objects, volumes and images in place (replay.ts). A snapshot or cluster that cannot take that is
 * restored the older way: the saved images go into the running nodes, each node's folders are staged,
 * the nodes stop, and the start that follows applies the folders at boot (node-parts.ts) and waits as
 * a resume does. Returns whether the cluster was made again.
 */
export async function restoreSnapshot(
  name: string,
  deps: ClusterDeps,
  ui: RestoreUi,
): Promise<{ recreated: boolean; manifest: SnapshotManifest }> {
  // The Kubernetes client is the largest module kubeyard loads: loaded while the snapshot is checked.
  const kube = loadKube();
  const { manifest, dir, saved } = await openSnapshot(name, ui.runner);
  const recreated = !(await readState(manifest.profile));
  if (recreated) await startWithSavedCas(dir, saved, saved.config, deps, ui);
  // A restore killed after it stopped the nodes is restored again from a running cluster.
  const nodes = await deps.driver.listNodes(manifest.profile);
  if (nodes.some((n) => n.state !== "running")) await startCluster(saved.config, deps, ui);
  let restarted: Restarted | undefined;
  const restore = (progress: ProgressLine) =>
    withProfileLock(manifest.profile, async () => {
      const state = await requireReadyState(manifest.profile);
      await refuseOtherCluster(state, manifest);
      await runningNodes(deps.driver, manifest.profile);
      const kc = (await kube).client(state);
      restarted = await replayInPlace(deps.driver, { dir, manifest }, progress, async () => (await kube).savedReadyWorkloads(await kc));
      if (!restarted) await stageAndStop(deps.driver, { dir, manifest, profile: manifest.profile }, progress);
      await writeState({ ...state, addons: saved.addons, ...(saved.addonValues ? { addonValues: saved.addonValues } : {}) });
    });
  await ui.runner([{ title: "restore the snapshot into the cluster", run: restore }]);
  if (!restarted) await startCluster(saved.config, deps, ui);
  else await waitRestored(await kube, manifest.profile, restarted, deps, ui);
  return { recreated, manifest };
}

type Kube = Awaited<ReturnType<typeof loadKube>>;

async function loadKube() {
  const [api, kube, back] = await Promise.all([
    import("../cluster/api.js"),
    import("../kube/index.js"),
    import("../snapshot/workloads-back.js"),
  ]);
  return {
    client: async (state: ClusterState): Promise<KubeConfig> => api.adminClient(state, await loadPki(pkiDir(state.name))),
    waitForPodsReady: kube.waitForPodsReady,
    savedReadyWorkloads: back.savedReadyWorkloads,
    waitWorkloadsBack: back.waitWorkloadsBack,
  };
}

/**
 * After a restore in place: CoreDNS answers (as a start ends), and the workloads the snapshot has
 * Ready run again on the saved volumes; one that does not within 3 minutes is named, not fatal.
 */
async function waitRestored(kube: Kube, profile: string, restarted: Restarted, deps: ClusterDeps, ui: RestoreUi): Promise<void> {
  const kc = await kube.client(await requireReadyState(profile));
  const { waitForPodsReady, waitWorkloadsBack } = kube;
  const signal = deps.signal;
  const { pods, sinceMs } = restarted;
  await ui.runner([
    {
      title: "CoreDNS",
      // kube-system's pods run on through an in-place restore: their status is their own.
      run: async () => void (await waitForPodsReady(kc, "kube-system", "k8s-app=kube-dns", { timeoutMs: 300_000, signal })),
    },
    {
      title: `${pods.length} workload pod${pods.length === 1 ? "" : "s"} running again`,
      run: async () => {
        const late = await waitWorkloadsBack(kc, pods, sinceMs, { timeoutMs: 180_000, signal });
        if (late.length) ui.warn(`not Ready again 3 minutes after the restore: ${late.join(", ")}`);
      },
    },
  ]);
}

/** A snapshot by name, its files checked against its manifest (a step of its own), and the cluster record it holds. */
export async function openSnapshot(
  name: string,
  runner: StepRunner,
): Promise<{ manifest: SnapshotManifest; dir: string; saved: ClusterState }> {
  const manifest = await findSnapshot(name);
  const dir = snapshotDir(name);
  await runner([{ title: `verify snapshot "${name}"`, run: () => verifySnapshot(dir, manifest, `snapshot "${name}"`) }]);
  return { manifest, dir, saved: await readSnapshotState(name) };
}

/**
 * Makes a cluster of `config` with the saved cluster's CAs (and service account key), so certificates
 * and tokens it issued stay valid, and with every addon the saved cluster had enabled.
 */
export async function startWithSavedCas(
  dir: string,
  saved: ClusterState,
  config: ClusterConfig,
  deps: ClusterDeps,
  ui: RestoreUi,
): Promise<void> {
  // Made first, private, as writeState makes the profile's folder: fs.cp would make them world-readable.
  await fs.mkdir(pkiDir(config.name), { recursive: true, mode: 0o700 });
  await fs.chmod(path.dirname(pkiDir(config.name)), 0o700);
  await fs.cp(path.join(dir, PKI), pkiDir(config.name), { recursive: true, force: true });
  await startCluster({ ...config, addons: [...new Set([...config.addons, ...saved.addons])] }, deps, ui);
}

/**
 * Gives the running nodes of `profile` the snapshot's images and stages its folders on them (on each
 * node `target` names, in a copy), then stops them: their next start applies the folders.
 */
export async function stageAndStop(
  driver: NodeDriver,
  snap: { dir: string; manifest: SnapshotManifest; profile: string; target?: NodeTarget },
  progress: ProgressLine,
): Promise<void> {
  await restoreImages(driver, snap.dir, snap.manifest, progress, snap.target);
  await stageRestore(driver, snap.dir, snap.manifest, progress, snap.target ? { target: snap.target } : undefined);
  progress(`stop the nodes of "${snap.profile}"`);
  await stopCluster(driver, snap.profile);
}

/** The cluster a snapshot is restored into must be the one it was saved from: same nodes, version, runtime and CA. */
export async function refuseOtherCluster(state: ClusterState, manifest: SnapshotManifest): Promise<void> {
  const want = manifest.nodes.map((n) => `${n.name}/${n.role}`).sort();
  const have = state.nodes.map((n) => `${n.name}/${n.role}`).sort();
  const remake = `Delete it (\`kubeyard delete -p ${state.name}\`), and restore makes it again as it was saved.`;
  if (want.join(",") !== have.join(",")) {
    throw new UserError(`cluster "${state.name}" has nodes ${have.join(", ")}, the snapshot ${want.join(", ")}`, remake);
  }
  if (state.config.kubernetesVersion !== manifest.kubernetesVersion) {
    throw new UserError(
      `cluster "${state.name}" runs Kubernetes ${state.config.kubernetesVersion}, the snapshot ${manifest.kubernetesVersion}`,
      remake,
    );
  }
  const runtime = nodeRuntime(state.config);
  if (runtime !== snapshotRuntime(manifest)) {
    throw new UserError(`cluster "${state.name}" runs ${runtime}, the snapshot's cluster ran ${snapshotRuntime(manifest)}`, remake);
  }
  const ca = pkiPaths.ca.cert;
  const [mine, theirs] = await Promise.all([
    fs.readFile(path.join(pkiDir(state.name), ca), "utf8"),
    fs.readFile(path.join(snapshotDir(manifest.name), PKI, ca), "utf8"),
  ]);
  if (mine !== theirs) throw new UserError(`cluster "${state.name}" was made again after the snapshot (its CA differs)`, remake);
}

export { exportSnapshot, importSnapshot } from "../snapshot/archive.js";
export { findSnapshot, listSnapshots, removeSnapshot, snapshotRuntime } from "../snapshot/store.js";
