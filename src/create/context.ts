import type { ClusterConfig } from "../config/index.js";
import type { NodeDriver } from "../drivers/types.js";
import type { PkiBundle } from "../pki/layout.js";
import type { ClusterState } from "../cluster/state.js";
import type { LoadBalancer, PlacedNode } from "../cluster/topology.js";
import type { Progress } from "./action.js";
import type { ClusterApi } from "./cluster-api.js";

/** What cluster operations need from outside: the engine, the API, images, and where to report. */
export interface ClusterDeps {
  driver: NodeDriver;
  /** The API of the cluster whose state and PKI are given (tests pass their own). */
  connectApi: (state: ClusterState, pki: PkiBundle) => ClusterApi;
  /** The node image's reference, built first when kubeyard's own image is missing. */
  ensureNodeImage: (config: ClusterConfig, progress: Progress) => Promise<string>;
  /** The API servers' load balancer image (clusters with several control planes). */
  ensureLoadBalancerImage: (progress: Progress) => Promise<string>;
  /** Enables one of the config's optional addons on the ready cluster (images and all). */
  enableAddon: (profile: string, name: string, progress: Progress) => Promise<void>;
  /** Gives a node added later what every enabled addon put on each node (images, node files). */
  prepareNodesForAddons: (profile: string, progress: Progress) => Promise<void>;
  /** Puts the shared registry mirrors (if any run) on the cluster's network and names them in its running nodes. */
  joinRegistryMirror: (cluster: string) => Promise<void>;
  /** The kubeconfig file to add the cluster's context to, or null (--no-kubeconfig). */
  kubeconfigPath: string | null;
  /** Aborted on Ctrl-C: waits in progress give up so the operation can clean up. */
  signal?: AbortSignal;
  log: (message: string) => void;
  /** How long a starting etcd member may take to answer as healthy (default 120 s). */
  etcdHealthWaitMs?: number;
}

/**
 * The one object a cluster operation's actions share. What an action finds out (the state, the
 * PKI, the API) is set on it for the actions after it; reading a part no action has set yet is a
 * bug in the plan's order and says which part is missing.
 */
export class ClusterContext {
  /** Every node of the cluster, as placed on its network. */
  nodes: PlacedNode[] = [];
  /** The nodes this operation provisions (all of them on create, the new one on node add). */
  targets: PlacedNode[] = [];
  loadBalancer?: LoadBalancer;
  nodeImage = "";
  loadBalancerImage = "";
  /** The nodes a resume started again (not those it unpaused or found running), and when. */
  restarted: { nodes: string[]; sinceMs: number } = { nodes: [], sinceMs: Date.now() };
  /** Work started by one action and awaited by a later one (the system addons). */
  readonly pending = new Map<string, Promise<void>>();
  private parts: { state?: ClusterState; pki?: PkiBundle; api?: ClusterApi } = {};

  constructor(
    readonly deps: ClusterDeps,
    readonly config: ClusterConfig,
  ) {}

  get driver(): NodeDriver {
    return this.deps.driver;
  }
  get state(): ClusterState {
    return this.need("state");
  }
  set state(s: ClusterState) {
    this.parts.state = s;
  }
  get pki(): PkiBundle {
    return this.need("pki");
  }
  set pki(p: PkiBundle) {
    this.parts.pki = p;
    this.parts.api = undefined;
  }
  /** The API as kubernetes-admin, connected once the state and PKI are known. */
  get api(): ClusterApi {
    this.parts.api ??= this.deps.connectApi(this.state, this.pki);
    return this.parts.api;
  }
  /** Awaits work an earlier action started under `name`. */
  async settle(name: string): Promise<void> {
    const p = this.pending.get(name);
    if (!p) throw new Error(`nothing was started as "${name}": the action that starts it must run first`);
    await p;
  }
  get controlPlanes(): PlacedNode[] {
    return this.nodes.filter((p) => p.config.role === "control-plane");
  }

  private need<K extends "state" | "pki">(part: K): NonNullable<(typeof this.parts)[K]> {
    const v = this.parts[part];
    if (v === undefined) throw new Error(`no ${part} yet: an action that records it must run first`);
    return v as NonNullable<(typeof this.parts)[K]>;
  }
}
