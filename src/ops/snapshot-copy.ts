import { adminClient, createNodeObjects, startKubeProxy, waitApiServer, waitNodesReady } from "../cluster/api.js";
import { clusterKubeProxyObjects } from "../cluster/kube-proxy.js";
import { pkiDir, readState, requireReadyState, withProfileLock, type ClusterState } from "../cluster/state.js";
import { placedFromState, type PlacedNode } from "../cluster/topology.js";
import type { ClusterConfig } from "../config/index.js";
import type { StepRunner } from "../create/action.js";
import type { ClusterDeps } from "../create/context.js";
import type { ManifestObject } from "../components/index.js";
import { serverSideApply } from "../kube/apply.js";
import { waitForPodsReady } from "../kube/wait.js";
import { restartService } from "../node/services.js";
import { loadPki } from "../pki/store.js";
import { giveCapacity, releaseOldNodes, type NodeCapacity } from "../snapshot/adopt-nodes.js";
import { savedReadyOwners, waitOwnersBack, type SavedOwner } from "../snapshot/workloads-back.js";
import { KUBELET_ARGS, NO_REGISTRATION } from "../snapshot/node-parts.js";
import type { SnapshotManifest } from "../snapshot/store.js";
import { UserError } from "../util/errors.js";
import type { KubeConfig } from "@kubernetes/client-node";
import { replayInPlace } from "../snapshot/replay.js";
import { hasStateKeys } from "../snapshot/saved-keys.js";
import { openSnapshot, stageAndStop, startWithSavedCas, type RestoreUi } from "./snapshot.js";

/**
 * `kubeyard start --from-snapshot NAME -p NEW`: a second cluster with the snapshot's state, beside
 * the first, with its own nodes, network and ports and the same CAs. It is made as a new cluster of
 * the saved config, and the snapshot is then restored into it in place (replay.ts), each saved node's
 * parts on its counterpart, with the keys that name the copy's own nodes and addresses kept as the
 * copy made them (ownKeys). What was bound to the saved nodes is then handed to the copy's
 * (releaseOldNodes). A snapshot saved before kubeyard kept its objects' keys is copied the older way,
 * by restarting the nodes on the saved etcd data (one control plane only).
 */
export async function startFromSnapshot(name: string, profile: string, deps: ClusterDeps, ui: RestoreUi): Promise<SnapshotManifest> {
  if (await readState(profile)) {
    throw new UserError(`cluster "${profile}" exists already`, "Name the copy with -p NEW, a profile that is not in use.");
  }
  const { manifest, dir, saved } = await openSnapshot(name, ui.runner);
  const keys = await hasStateKeys(dir);
  const config = copyConfig(saved, profile, keys);
  await startWithSavedCas(dir, saved, config, deps, ui);

  const renamed = new Map(saved.nodes.map((n, i) => [n.name, config.nodes[i]!.name]));
  const target = (n: string) => renamed.get(n)!;
  let state: ClusterState | undefined;
  let replayed = false;
  await ui.runner([
    {
      title: "restore the snapshot into the copy",
      run: (progress) =>
        withProfileLock(profile, async () => {
          state = await requireReadyState(profile);
          if (keys) replayed = !!(await replayInPlace(deps.driver, { dir, manifest }, progress, async () => [], { target, own: ownKeys }));
          if (replayed) return;
          if (saved.nodes.some((n, i) => i > 0 && n.role === "control-plane")) {
            throw new UserError(
              `the copy's etcd refused the snapshot's objects in one transaction`,
              `Delete the copy (kubeyard delete -p ${profile}).`,
            );
          }
          await stageAndStop(deps.driver, { dir, manifest, profile, target }, progress);
        }),
    },
  ]);
  const copy = await copyOf(state!, renamed);
  await ui.runner([...(replayed ? adoptReplayed(copy) : adoptStaged(copy, deps)), ...systemPodsSteps(copy, deps, ui)]);
  return manifest;
}

type Step = Parameters<StepRunner>[0][number];

/** The copy as the steps after the restore see it: its nodes, an admin client, kube-proxy's objects for its addresses. */
interface Copy {
  state: ClusterState;
  placed: PlacedNode[];
  kc: KubeConfig;
  kubeProxy: ManifestObject[];
  /** Saved node name to the copy's. */
  renamed: Map<string, string>;
  /** What the handover leaves to the controllers (handOver sets it). */
  handedOver?: { owners: Map<string, SavedOwner>; sinceMs: number };
}

async function copyOf(state: ClusterState, renamed: Map<string, string>): Promise<Copy> {
  const placed = placedFromState(state);
  const kc = adminClient(state, await loadPki(pkiDir(state.name)));
  return { state, placed, kc, kubeProxy: clusterKubeProxyObjects(state.config, placed, state.loadBalancer), renamed };
}

const handOverTitle = (c: Copy) => `hand the saved nodes' pods and volumes to ${c.placed.map((p) => p.config.name).join(", ")}`;

/**
 * The keys a copy keeps as it made them: its Node and CSINode objects (the saved ones name the saved
 * nodes), the API servers' addresses behind the `kubernetes` Service, and kube-proxy's config (the
 * address it reaches the API server at).
 */
function ownKeys(key: string): boolean {
  return key.startsWith("/registry/minions/") || key.startsWith("/registry/csinodes/") || OWN_KEYS.has(key);
}
const OWN_KEYS = new Set([
  "/registry/services/endpoints/default/kubernetes",
  "/registry/endpointslices/default/kubernetes",
  "/registry/configmaps/kube-system/kube-proxy",
]);

/**
 * Releases the saved nodes' Nodes, pods and volumes (releaseOldNodes), having noted which controllers
 * had Ready pods on them: those make them again on the copy's nodes, and the copy is ready once they have.
 */
async function handOver(c: Copy): Promise<Map<string, NodeCapacity>> {
  const owners = await savedReadyOwners(c.kc, new Set(c.renamed.keys()));
  const sinceMs = Date.now();
  const capacities = await releaseOldNodes(c.kc, c.renamed);
  c.handedOver = { owners, sinceMs };
  return capacities;
}

/** After the replay: the saved nodes' pods and volumes go to the copy's nodes. */
function adoptReplayed(c: Copy): Step[] {
  return [{ title: handOverTitle(c), run: async () => void (await handOver(c)) }];
}

/**
 * After the nodes were stopped on the staged etcd data: they start, and their kubelets register their
 * Nodes only once the saved nodes' were released: a kubelet registering while the old Nodes still held
 * their pod ranges would get another range than its node's pod network was set up with.
 */
function adoptStaged(c: Copy, deps: ClusterDeps): Step[] {
  const { state: s, placed, kc } = c;
  return [
    {
      title: "nodes",
      run: async () => {
        for (const n of await deps.driver.listNodes(s.name)) if (n.state !== "running") await deps.driver.startNode(n.name);
        await deps.joinRegistryMirror(s.name);
      },
    },
    {
      title: "adopt the saved cluster's objects",
      run: async (progress) => {
        await waitApiServer(kc, deps.signal);
        progress("kube-proxy's objects for this cluster's addresses");
        await serverSideApply(kc, c.kubeProxy);
        progress(handOverTitle(c));
        const capacities = await handOver(c);
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
  ];
}

/**
 * Every node Ready, kube-proxy on each with its rules, CoreDNS answering (what a start ends with), and
 * the saved workloads running again on the copy's nodes.
 */
function systemPodsSteps(c: Copy, deps: ClusterDeps, ui: RestoreUi): Step[] {
  const { kc } = c;
  const signal = deps.signal;
  return [
    {
      title: "kubelet",
      run: () =>
        waitNodesReady(
          kc,
          c.state.nodes.map((n) => n.name),
          signal,
        ),
    },
    // Pods, not their controllers' status: the status came back with etcd's data, from before.
    { title: "kube-proxy", run: () => startKubeProxy(kc, c.kubeProxy, c.placed.length, signal) },
    {
      title: "CoreDNS",
      run: async () => void (await waitForPodsReady(kc, "kube-system", "k8s-app=kube-dns", { timeoutMs: 300_000, signal })),
    },
    {
      title: "the saved workloads on the copy's nodes",
      run: async (progress) => {
        const { owners, sinceMs } = c.handedOver!;
        progress(`${owners.size} controller${owners.size === 1 ? "" : "s"} make their Ready pods again`);
        const late = await waitOwnersBack(kc, owners, sinceMs, { timeoutMs: 180_000, signal });
        if (late.length) ui.warn(`not Ready again 3 minutes after the copy: pods of ${late.join(", ")}`);
      },
    },
  ];
}

/** The saved cluster's config under another name: its nodes renamed, the API server on a free port. */
function copyConfig(saved: ClusterState, profile: string, keys: boolean): ClusterConfig {
  const cps = saved.nodes.filter((n) => n.role === "control-plane").length;
  if (cps > 1 && !keys) {
    throw new UserError(
      `snapshot of cluster "${saved.name}" has ${cps} control planes and was saved by an earlier kubeyard; a copy of it is not supported`,
      "Restore it into its own cluster with `kubeyard snapshot restore`, then save it again.",
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
