import type { KubeConfig } from "@kubernetes/client-node";
import type { ClusterConfig } from "../config/index.js";
import type { RestartedNodes } from "../kube/readiness.js";
import { waitForPodsReady } from "../kube/wait.js";
import type { PkiBundle } from "../pki/layout.js";
import { addonContext, enableAddons } from "../addons/enable-defaults.js";
import { adminClient, createNodeObjects, startKubeProxy, waitApiServer, waitNodesReady, waitPriorityClass } from "../cluster/api.js";
import type { ClusterState } from "../cluster/state.js";
import type { PlacedNode } from "../cluster/topology.js";
import type { ManifestObject } from "../components/index.js";

/** What cluster operations ask of the Kubernetes API, as kubernetes-admin from the host. */
export interface ClusterApi {
  waitApiServer(signal?: AbortSignal): Promise<void>;
  /**
   * Registers Nodes before their kubelets do: pod range, role labels and taints fixed from the start.
   * Returns the nodes whose kubelet registered them first (a control plane's may), which got them then.
   */
  createNodeObjects(nodes: PlacedNode[]): Promise<string[]>;
  waitNodesReady(names: string[], signal?: AbortSignal): Promise<void>;
  /** Resolves once the named PriorityClass exists; asks until `signal` aborts. */
  waitPriorityClass(name: string, signal: AbortSignal): Promise<void>;
  /**
   * Applies addons with their default values, one after another, each waiting until it works; their
   * pods' objects once `workloadsAfter` settles, when given.
   */
  enableAddons(names: string[], config: ClusterConfig, signal?: AbortSignal, workloadsAfter?: Promise<unknown>): Promise<void>;
  /** The pods `selector` picks in `namespace` are Ready; those on `restarted`'s nodes run containers started since then. */
  waitPodsBack(namespace: string, selector: string, restarted: RestartedNodes, signal?: AbortSignal): Promise<void>;
  /** Applies kube-proxy's DaemonSet and the objects it needs, and waits until it runs on each of `nodes`. */
  startKubeProxy(objects: ManifestObject[], nodes: number, signal?: AbortSignal): Promise<void>;
}

/** The API of a cluster through its published port. */
export function connectClusterApi(state: ClusterState, pki: PkiBundle): ClusterApi {
  const kc: KubeConfig = adminClient(state, pki);
  return {
    waitApiServer: (signal) => waitApiServer(kc, signal),
    createNodeObjects: (nodes) => createNodeObjects(kc, nodes),
    waitNodesReady: (names, signal) => waitNodesReady(kc, names, signal),
    waitPriorityClass: (name, signal) => waitPriorityClass(kc, name, signal),
    enableAddons: (names, config, signal, after) => enableAddons(kc, names, addonContext(config), signal, after),
    waitPodsBack: async (ns, selector, restarted, signal) =>
      void (await waitForPodsReady(kc, ns, selector, { restarted, timeoutMs: 300_000, signal })),
    startKubeProxy: (objects, nodes, signal) => startKubeProxy(kc, objects, nodes, signal),
  };
}
