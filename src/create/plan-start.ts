import type { ClusterConfig } from "../config/index.js";
import { chooseAddonPorts, chooseApiServerPort, lowestPublishablePort, refuseUnpublishablePorts } from "../addons/host-ports.js";
import { readState, refuseOtherEngine, writeState, type ClusterState } from "../cluster/state.js";
import { needsLoadBalancer, placeLoadBalancer, placeNodes } from "../cluster/topology.js";
import { writeClusterKubeconfig } from "../cluster/kubeconfig-entry.js";
import { clusterKubeProxyObjects } from "../cluster/kube-proxy.js";
import type { NodeDriver } from "../drivers/types.js";
import type { Action, Plan } from "./action.js";
import type { ClusterContext } from "./context.js";
import { refuseChangedSettings } from "./fixed-settings.js";
import { provisionActions } from "./provision.js";

type A = Action<ClusterContext>;

/** Addons every cluster has, applied by `start` itself rather than by `addons enable`. */
export const SYSTEM_ADDONS = ["coredns", "storage-provisioner", "default-storageclass"] as const;
const STORAGE_ADDONS = ["storage-provisioner", "default-storageclass"];

/**
 * What `start` does for a validated config: nothing for a running cluster, resume a stopped one (its
 * workloads and volumes kept), else create it. Reads the recorded state and asks the engine which
 * node containers run; changes nothing.
 */
export async function planStart(config: ClusterConfig, driver: NodeDriver): Promise<Plan<ClusterContext>> {
  const existing = await readState(config.name);
  refuseOtherEngine(existing, driver);
  const nodes = await driver.listNodes(config.name);
  if (existing && existing.phase === "ready" && nodes.length) {
    refuseChangedSettings(config, existing.config);
    if (nodes.every((n) => n.state === "running"))
      return { kind: "running", summary: `cluster "${config.name}" is already running`, actions: [] };
    return planResume(existing);
  }
  return planCreate(config);
}

/** Starts a stopped (or paused) cluster again: every node comes back with what it had. */
export function planResume(state: ClusterState): Plan<ClusterContext> {
  return {
    kind: "resume",
    summary: `resume cluster "${state.name}" (${state.nodes.length} node${state.nodes.length === 1 ? "" : "s"})`,
    actions: [
      ...provisionActions("resume", state.nodes),
      coreDnsAction(["wait until CoreDNS's pods run again and are Ready"], (ctx) =>
        ctx.api.waitPodsBack("kube-system", "k8s-app=kube-dns", ctx.restarted, ctx.deps.signal),
      ),
      kubeconfigAction(),
    ],
  };
}

/** Creates a cluster from nothing, action by action; the plan depends on the config alone. */
export function planCreate(config: ClusterConfig): Plan<ClusterContext> {
  const cps = config.nodes.filter((n) => n.role === "control-plane").length;
  const workers = config.nodes.length - cps;
  const optional = config.addons.filter((a) => !(SYSTEM_ADDONS as readonly string[]).includes(a));
  return {
    kind: "create",
    summary:
      `create cluster "${config.name}": Kubernetes ${config.kubernetesVersion}, ${cps} control plane${cps === 1 ? "" : "s"}, ` +
      `${workers} worker${workers === 1 ? "" : "s"}${needsLoadBalancer(config) ? ", a load balancer in front of the API servers" : ""}`,
    actions: [
      nodeImageAction(config),
      networkAction(config),
      ...provisionActions("create", config.nodes, { onNodesRegistered: startSystemAddons }),
      kubeProxyAction(),
      coreDnsAction(["CoreDNS answers in the cluster"], (ctx) => ctx.settle("coredns")),
      storageAction(),
      kubeconfigAction(),
      ...optional.map((name): A => ({
        name: `addon ${name}`,
        title: `addon ${name}`,
        detail: [`enable the ${name} addon`],
        run: (ctx, progress) => ctx.deps.enableAddon(ctx.config.name, name, progress),
      })),
    ],
  };
}

function nodeImageAction(config: ClusterConfig): A {
  return {
    name: "node-image",
    title: "node image",
    detail: [
      config.nodeImage
        ? `use the node image ${config.nodeImage}`
        : `kubeyard's node image for Kubernetes ${config.kubernetesVersion} (built when missing)`,
      ...(needsLoadBalancer(config) ? ["the load balancer image (built when missing)"] : []),
    ],
    run: async (ctx, progress) => {
      ctx.nodeImage = await ctx.deps.ensureNodeImage(ctx.config, progress);
      if (needsLoadBalancer(ctx.config)) ctx.loadBalancerImage = await ctx.deps.ensureLoadBalancerImage(progress);
    },
  };
}

function networkAction(config: ClusterConfig): A {
  const { podSubnet, serviceSubnet, apiServerAddress, apiServerPort } = config.networking;
  return {
    name: "network",
    title: "network",
    detail: [
      `a free private subnet for the cluster network, apart from pods ${podSubnet} and services ${serviceSubnet}`,
      `the API server on ${apiServerAddress}:${apiServerPort || "(a free port)"}, the addons' host ports`,
      "record the cluster (so that delete finds whatever is made next)",
    ],
    run: async (ctx) => {
      const lowest = await lowestPublishablePort(await ctx.driver.describeEngine());
      refuseUnpublishablePorts(ctx.config, lowest);
      const port = await chooseApiServerPort(ctx.config);
      const addonPorts = await chooseAddonPorts(ctx.config, port, lowest);
      const network = await ctx.driver.ensureNetwork(ctx.config.name, { avoid: [podSubnet, serviceSubnet] });
      ctx.nodes = placeNodes(ctx.config, network.subnet);
      ctx.targets = ctx.nodes;
      if (needsLoadBalancer(ctx.config)) ctx.loadBalancer = placeLoadBalancer(ctx.config.name, network.subnet);
      ctx.state = {
        name: ctx.config.name,
        config: ctx.config,
        apiServerPort: port,
        addonPorts,
        network,
        nodes: ctx.nodes.map((p) => ({ name: p.config.name, role: p.config.role, ip: p.ip, podCIDR: p.podCIDR })),
        ...(ctx.loadBalancer ? { loadBalancer: ctx.loadBalancer } : {}),
        kubeconfigPath: ctx.deps.kubeconfigPath,
        addons: [],
        phase: "creating",
        createdAt: new Date().toISOString(),
        driver: ctx.driver.name,
      };
      await writeState(ctx.state);
    },
  };
}

/**
 * Applies kube-proxy as soon as the Nodes are registered, then CoreDNS and the storage addons, each
 * then waiting until it works. The controller manager takes seconds after the API server answers
 * before its controllers create pods; started here, that overlaps with the kubelets starting rather
 * than following them. The addons' pods wait for kube-proxy: they reach the API server through the
 * `kubernetes` Service, and a connection tried before kube-proxy's rules exist stays unanswered
 * (conntrack keeps its first, untranslated route) until the client gives up and dials again. Their
 * other objects are read, rendered and applied meanwhile, which took a third of a second after it.
 */
function startSystemAddons(ctx: ClusterContext): void {
  const proxy = ctx.api.startKubeProxy(clusterKubeProxyObjects(ctx.config, ctx.nodes, ctx.loadBalancer), ctx.nodes.length, ctx.deps.signal);
  const afterProxy = (addons: string[]) => ctx.api.enableAddons(addons, ctx.config, ctx.deps.signal, proxy);
  const started = {
    "kube-proxy": proxy,
    coredns: afterProxy(["coredns"]),
    storage: afterProxy(STORAGE_ADDONS),
  };
  for (const [name, p] of Object.entries(started)) {
    // An action that fails before theirs leaves them unawaited: not an unhandled rejection.
    p.catch(() => undefined);
    ctx.pending.set(name, p);
  }
}

function kubeProxyAction(): A {
  return {
    name: "kube-proxy",
    title: "kube-proxy",
    detail: ["kube-proxy's DaemonSet (applied once the Nodes are registered) runs on every node"],
    run: (ctx) => ctx.settle("kube-proxy"),
  };
}

function coreDnsAction(detail: string[], run: (ctx: ClusterContext) => Promise<void>): A {
  return { name: "coredns", title: "CoreDNS", detail, run };
}

function storageAction(): A {
  return {
    name: "storage",
    title: "storage",
    detail: ["the local-path provisioner and the default StorageClass work"],
    run: async (ctx) => {
      await ctx.settle("storage");
      ctx.state.addons = [...SYSTEM_ADDONS];
    },
  };
}

function kubeconfigAction(): A {
  return {
    name: "kubeconfig",
    title: "kubeconfig",
    detail: ["record the cluster as ready", "add its context to the kubeconfig and make it current (unless --no-kubeconfig)"],
    run: async (ctx) => {
      if (ctx.state.phase !== "ready") {
        ctx.state.phase = "ready";
        await writeState(ctx.state);
      }
      if (ctx.state.kubeconfigPath) await writeClusterKubeconfig(ctx.state, ctx.pki);
    },
  };
}
