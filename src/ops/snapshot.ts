import { promises as fs } from "node:fs";
import path from "node:path";
import { pkiDir, readState, requireReadyState, withProfileLock, writeState, type ClusterState } from "../cluster/state.js";
import { runningNodes } from "../cluster/running-nodes.js";
import { digestTree } from "../artifacts/tree-digest.js";
import type { ClusterDeps } from "../create/context.js";
import { stopCluster } from "../day2/stop.js";
import type { NodeDriver } from "../drivers/types.js";
import { pkiPaths } from "../pki/index.js";
import { captureNodes } from "../snapshot/capture.js";
import { restoreImages, stageRestore } from "../snapshot/stage.js";
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
      const { nodes, pausedMs } = await captureNodes(driver, state, staging, progress);
      progress("the cluster's record and PKI");
      await fs.cp(pkiDir(profile), path.join(staging, PKI), { recursive: true });
      await fs.writeFile(path.join(staging, STATE_FILE), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
      progress("checksums");
      const manifest: SnapshotManifest = {
        format: FORMAT,
        name,
        profile,
        kubernetesVersion: state.config.kubernetesVersion,
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
 * no longer exists is made again first (same config and CAs). The saved images go into the running
 * nodes, each node's folders are staged, the nodes stop, and the start that follows applies the
 * folders at boot (node-parts.ts) and waits as a resume does. Returns whether the cluster was made again.
 */
export async function restoreSnapshot(
  name: string,
  deps: ClusterDeps,
  ui: RestoreUi,
): Promise<{ recreated: boolean; manifest: SnapshotManifest }> {
  const manifest = await findSnapshot(name);
  const dir = snapshotDir(name);
  await ui.runner([{ title: `verify snapshot "${name}"`, run: () => verifySnapshot(dir, manifest, `snapshot "${name}"`) }]);
  const saved = await readSnapshotState(name);
  const recreated = !(await readState(manifest.profile));
  if (recreated) {
    // The CAs (and the service account key) of the saved cluster: certificates and tokens it issued stay valid.
    await fs.cp(path.join(dir, PKI), pkiDir(manifest.profile), { recursive: true, force: true });
    await startCluster({ ...saved.config, addons: [...new Set([...saved.config.addons, ...saved.addons])] }, deps, ui);
  }
  // A restore killed after it stopped the nodes is restored again from a running cluster.
  const nodes = await deps.driver.listNodes(manifest.profile);
  if (nodes.some((n) => n.state !== "running")) await startCluster(saved.config, deps, ui);
  const stage = (progress: ProgressLine) =>
    withProfileLock(manifest.profile, async () => {
      const state = await requireReadyState(manifest.profile);
      await refuseOtherCluster(state, manifest);
      await runningNodes(deps.driver, manifest.profile);
      await restoreImages(deps.driver, dir, manifest, progress);
      await stageRestore(deps.driver, dir, manifest, progress);
      progress(`stop the nodes of "${manifest.profile}"`);
      await stopCluster(deps.driver, manifest.profile);
      await writeState({ ...state, addons: saved.addons, ...(saved.addonValues ? { addonValues: saved.addonValues } : {}) });
    });
  await ui.runner([{ title: "stage the snapshot on the nodes", run: stage }]);
  await startCluster(saved.config, deps, ui);
  return { recreated, manifest };
}

/** The cluster a snapshot is restored into must be the one it was saved from: same nodes, version and CA. */
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
  const ca = pkiPaths.ca.cert;
  const [mine, theirs] = await Promise.all([
    fs.readFile(path.join(pkiDir(state.name), ca), "utf8"),
    fs.readFile(path.join(snapshotDir(manifest.name), PKI, ca), "utf8"),
  ]);
  if (mine !== theirs) throw new UserError(`cluster "${state.name}" was made again after the snapshot (its CA differs)`, remake);
}

export { exportSnapshot, importSnapshot } from "../snapshot/archive.js";
export { findSnapshot, listSnapshots, removeSnapshot } from "../snapshot/store.js";
