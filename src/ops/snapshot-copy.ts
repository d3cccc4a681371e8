import { adminClient, createNodeObjects, startKubeProxy, waitApiServer, waitNodesReady } from "../cluster/api.js";
import { clusterKubeProxyObjects } from "../cluster/kube-proxy.js";
import { pkiDir, readState, requireReadyState, withProfileLock, type ClusterState } from "../cluster/state.js";
import { placedFromState } from "../cluster/topology.js";
import type { ClusterConfig } from "../config/index.js";
import type { ClusterDeps } from "../create/context.js";
import { serverSideApply } from "../kube/apply.js";
import { waitForPodsReady } from "../kube/wait.js";
import { restartService } from "../node/services.js";
import { loadPki } from "../pki/index.js";
import { giveCapacity, releaseOldNodes } from "../snapshot/adopt-nodes.js";
import { KUBELET_ARGS, NO_REGISTRATION } from "../snapshot/node-parts.js";
import type { SnapshotManifest } from "../snapshot/store.js";
import { UserError } from "../util/errors.js";
import { openSnapshot, stageAndStop, startWithSavedCas, type RestoreUi } from "./snapshot.js";

/**
 * `kubeyard start --from-snapshot NAME -p NEW`: a second cluster with the snapshot's state, beside
 * the first, with its own nodes, network and ports and the same CAs. It is made as a new cluster of
 * the saved config, then given the saved folders as a restore is, and its first boot hands what was
 * bound to the saved nodes to its own (releaseOldNodes). Its kubelets register their Nodes only after
 * that: a kubelet registering while the old Nodes still held their pod ranges would get another range
 * than its node's pod network was set up with.
 */
export async function startFromSnapshot(name: string, profile: string, deps: ClusterDeps, ui: RestoreUi): Promise<SnapshotManifest> {
  if (await readState(profile)) {
    throw new UserError(`cluster "${profile}" exists already`, "Name the copy with -p NEW, a profile that is not in use.");
  }
  const { manifest, dir, saved } = await openSnapshot(name, ui.runner);
  const config = copyConfig(saved, profile);
  await startWithSavedCas(dir, saved, config, deps, ui);

  const renamed = new Map(saved.nodes.map((n, i) => [n.name, config.nodes[i]!.name]));
  const target = (n: string) => renamed.get(n)!;
  let state: ClusterState | undefined;
  await ui.runner([
    {
      title: "stage the snapshot on the nodes",
      run: (progress) =>
        withProfileLock(profile, async () => {
          state = await requireReadyState(profile);
          await stageAndStop(deps.driver, { dir, manifest, profile, target }, progress);
        }),
    },
  ]);
  const s = state!;
  const placed = placedFromState(s);
  const kc = adminClient(s, await loadPki(pkiDir(profile)));
  const kubeProxy = clusterKubeProxyObjects(s.config, placed, s.loadBalancer);
  await ui.runner([
    {
      title: "nodes",
      run: async () => {
        for (const n of await deps.driver.listNodes(profile)) if (n.state !== "running") await deps.driver.startNode(n.name);
        await deps.joinRegistryMirror(profile);
      },
    },
    {
      title: "adopt the saved cluster's objects",
      run: async (progress) => {
        await waitApiServer(kc, deps.signal);
        progress("kube-proxy's objects for this cluster's addresses");
        await serverSideApply(kc, kubeProxy);
        progress(`hand the saved nodes' pods and volumes to ${placed.map((p) => p.config.name).join(", ")}`);
        const capacities = await releaseOldNodes(kc, renamed);
        await createNodeObjects(kc, placed);
        await giveCapacity(kc, capacities);
        progress("let the kubelets register");
        await Promise.all(
          placed.map(async (p) => {
            await deps.driver.exec(p.config.name, ["sed", "-i", `/^${NO_REGISTRATION}$/d`, KUBELET_ARGS]);
            await restartService(deps.driver, p.config.name, "kubelet");
          }),
        );
      },
    },
    {
      title: "kubelet",
      run: () =>
        waitNodesReady(
          kc,
          s.nodes.map((n) => n.name),
          deps.signal,
        ),
    },
    // Pods, not their controllers' status: the status came back with etcd's data, from before.
    { title: "kube-proxy", run: () => startKubeProxy(kc, kubeProxy, placed.length, deps.signal) },
    {
      title: "CoreDNS",
      run: async () => void (await waitForPodsReady(kc, "kube-system", "k8s-app=kube-dns", { timeoutMs: 300_000, signal: deps.signal })),
    },
  ]);
  return manifest;
}

/** The saved cluster's config under another name: its nodes renamed, the API server on a free port. */
function copyConfig(saved: ClusterState, profile: string): ClusterConfig {
  const cps = saved.nodes.filter((n) => n.role === "control-plane").length;
  if (cps > 1) {
    throw new UserError(
      `snapshot of cluster "${saved.name}" has ${cps} control planes; a copy of it is not supported yet`,
      "Restore it into its own cluster with `kubeyard snapshot restore`.",
    );
  }
  if (saved.nodes.length !== saved.config.nodes.length) {
    throw new UserError(`snapshot of cluster "${saved.name}" has nodes added after its start; a copy of it is not supported yet`);
  }
  const rename = (n: string) => (n.startsWith(`${saved.name}-`) ? `${profile}${n.slice(saved.name.length)}` : `${profile}-${n}`);
  return {
    ...saved.config,
    name: profile,
    nodes: saved.config.nodes.map((n) => ({ ...n, name: rename(n.name) })),
    networking: { ...saved.config.networking, apiServerPort: 0 },
  };
}
