import { nodeImageFor } from "../cluster/node-image.js";
import { addonPortMappings, rechooseTakenPorts, type PublishedPorts } from "../addons/host-ports.js";
import { nodePayload } from "../cluster/node-payload.js";
import { applyPodNetwork, refreshPodNetwork, writeLoadBalancerConfig } from "../node/pod-network.js";
import { enableServices, restartService } from "../node/services.js";
import { enableStaticPods } from "../node/static-pods.js";
import { unpackImages } from "../node/unpack-images.js";
import { imageRefs } from "../versions/versions.js";
import { pkiDir, writeState } from "../cluster/state.js";
import { componentContext, type PlacedNode } from "../cluster/topology.js";
import { nodeRuntime, type NodeConfig } from "../config/index.js";
import type { PortMapping } from "../drivers/types.js";
import { loadPki } from "../pki/store.js";
import type { Action } from "./action.js";
import type { ClusterContext } from "./context.js";
import { addEtcdMember, requireEtcdHealthy } from "./etcd-health.js";
import { CONTROL_PLANE_COMPONENTS, ETCD_COMPONENTS, NODE_COMPONENTS } from "../components/index.js";

/**
 * How the nodes an operation provisions come to be: made with the cluster (`create`), joined to a
 * running one (`join`), or started again with everything already on them (`resume`).
 */
export type ProvisionMode = "create" | "join" | "resume";

type A = Action<ClusterContext>;
/** The nodes an operation provisions, as its plan names them before they are placed on a network. */
export type Member = Pick<NodeConfig, "name" | "role">;
const names = (nodes: readonly Member[]) => nodes.map((n) => n.name).join(", ");
const cps = <T extends Member>(nodes: readonly T[]): T[] => nodes.filter((n) => n.role === "control-plane");
const placedCps = (nodes: PlacedNode[]) => nodes.filter((p) => p.config.role === "control-plane");

/**
 * Provisioning and joining nodes, one action per phase, each phase over all the operation's nodes
 * at once: containers, certificates and config, the control planes' kubelets, etcd, the control
 * plane, the other kubelets. The phases are barriers because a cluster's members depend on one
 * another (etcd needs its peers to form a quorum; a worker's kubelet needs the API server). etcd and
 * the control plane are static pods, so a control plane's kubelet starts before them.
 * `start`, `node add` and resume all provision through these.
 */
export function provisionActions(
  mode: ProvisionMode,
  members: readonly Member[],
  opts: { onNodesRegistered?: (ctx: ClusterContext) => void } = {},
): A[] {
  const actions: A[] = [containersAction(mode, members)];
  if (mode !== "resume") actions.push(certificatesAction(mode, members));
  if (cps(members).length) {
    if (mode !== "resume") actions.push(controlPlaneKubeletAction(mode, cps(members)));
    actions.push(etcdAction(mode, cps(members)), controlPlaneAction(mode, cps(members)));
  }
  actions.push(kubeletAction(mode, members, opts.onNodesRegistered));
  return actions;
}

const MIRROR_DETAIL = "pull through the shared registry mirror, when one runs (`kubeyard registry-mirror`)";

function containersAction(mode: ProvisionMode, members: readonly Member[]): A {
  if (mode === "resume") {
    return {
      name: "nodes",
      title: "nodes",
      detail: ["start (or unpause) every node container that is not running", MIRROR_DETAIL],
      run: async (ctx) => {
        ctx.restarted.sinceMs = Date.now();
        for (const n of await ctx.driver.listNodes(ctx.config.name)) {
          if (n.state === "paused") await ctx.driver.unpauseNode(n.name);
          else if (n.state !== "running") {
            await ctx.driver.startNode(n.name);
            ctx.restarted.nodes.push(n.name);
          }
        }
        await ctx.deps.joinRegistryMirror(ctx.config.name);
        ctx.pki = await loadPki(pkiDir(ctx.config.name));
      },
    };
  }
  return {
    name: "nodes",
    title: "nodes",
    detail: [
      ...members.map((n) => `create ${n.name} (${n.role})`),
      ...(mode === "create" && cps(members).length > 1 ? ["create the API servers' load balancer"] : []),
      MIRROR_DETAIL,
      mode === "join" && !cps(members).length
        ? `meanwhile, issue kubelet certificates for ${names(members)}`
        : "meanwhile, issue the cluster's certificates (keeping its CAs)",
    ],
    run: async (ctx, progress) => {
      const targets = ctx.targets;
      // A node joining runs the image its cluster's nodes run.
      if (mode === "join" && !ctx.nodeImage) ctx.nodeImage = await runningNodeImage(ctx);
      // The certificates are issued while the engine makes the containers: both take a few hundred ms.
      startIssuingPki(ctx, mode, members);
      const creating: Promise<unknown>[] = targets.map((p) => createNodeContainer(ctx, p, mode));
      if (mode === "create" && ctx.loadBalancer) {
        const lb = ctx.loadBalancer;
        creating.push(
          createPublishing(ctx, lb.name, { api: true, addons: false }, () =>
            ctx.driver.createNode({
              cluster: ctx.config.name,
              name: lb.name,
              role: "load-balancer",
              image: ctx.loadBalancerImage,
              ip: lb.ip,
              ports: [apiPortMapping(ctx)],
              mounts: [],
            }),
          ),
        );
      }
      await Promise.all(creating);
      await ctx.deps.joinRegistryMirror(ctx.config.name);
      progress(`${targets.length} running${mode === "create" && ctx.loadBalancer ? ", and a load balancer" : ""}`);
    },
  };
}

async function runningNodeImage(ctx: ClusterContext): Promise<string> {
  const running = (await ctx.driver.listNodes(ctx.config.name)).find((n) => n.role !== "load-balancer");
  return running?.image ?? nodeImageFor(ctx.config);
}

function apiPortMapping(ctx: ClusterContext): PortMapping {
  return {
    containerPort: 6443,
    hostPort: ctx.state.apiServerPort,
    listenAddress: ctx.config.networking.apiServerAddress,
    protocol: "TCP",
  };
}

/**
 * With several control planes the load balancer publishes the API; the addons' host ports stay on the
 * first control plane either way.
 */
async function createNodeContainer(ctx: ClusterContext, p: PlacedNode, mode: ProvisionMode): Promise<void> {
  const first = mode === "create" && p === ctx.controlPlanes[0];
  const publishes = { api: first && !ctx.loadBalancer, addons: first };
  await createPublishing(ctx, p.config.name, publishes, () =>
    ctx.driver.createNode({
      cluster: ctx.config.name,
      name: p.config.name,
      role: p.config.role,
      image: p.config.image ?? ctx.nodeImage,
      ip: p.ip,
      ports: [
        ...(publishes.api ? [apiPortMapping(ctx)] : []),
        ...(publishes.addons && ctx.state.addonPorts ? addonPortMappings(ctx.state.addonPorts) : []),
        ...p.config.extraPortMappings.map((m) => ({ ...m })),
      ],
      mounts: p.config.extraMounts.map((m) => ({ ...m })),
      // The node image's supervisor runs this runtime from the first boot on (select-runtime).
      env: { KUBEYARD_CONTAINER_RUNTIME: nodeRuntime(ctx.config) },
    }),
  );
}

/**
 * Creates a container that publishes some of the cluster's host ports. Another cluster starting at
 * the same moment may take one that was free when it was chosen: the ports the config left open are
 * then chosen again, recorded, and the container made anew.
 */
async function createPublishing(
  ctx: ClusterContext,
  name: string,
  publishes: PublishedPorts,
  create: () => Promise<unknown>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      return;
    } catch (err) {
      const published = publishes.api || publishes.addons;
      const moved = published && attempt < 4 && (await rechooseTakenPorts(ctx.config, ctx.state, publishes));
      if (!moved) throw err;
      await ctx.driver.removeNode(name);
      Object.assign(ctx.state, moved);
      await writeState(ctx.state);
    }
  }
}

function certificatesAction(mode: "create" | "join", members: readonly Member[]): A {
  return {
    name: "certificates",
    title: "certificates",
    detail: [
      `copy certificates and component config into ${names(members)}`,
      mode === "create" ? "set up the pod network on every node" : "route the new pod range on every running node",
      ...(mode === "create" && cps(members).length > 1 ? ["give the load balancer the control planes"] : []),
    ],
    run: async (ctx) => {
      const targets = ctx.targets;
      await ctx.settle(PKI);
      await Promise.all(
        targets.map((p) => {
          const component = componentContext(ctx.config, ctx.nodes, p, ctx.loadBalancer);
          // A control plane joining a running cluster joins its etcd rather than founding one.
          const joined =
            mode === "join" && p.config.role === "control-plane"
              ? { ...component, etcdInitialClusterState: "existing" as const }
              : component;
          return ctx.driver.copyFiles(p.config.name, nodePayload(ctx.pki, joined));
        }),
      );
      if (mode === "create") {
        // The boot hooks ran before these files existed; from now on every node start runs them.
        await applyPodNetwork(
          ctx.driver,
          targets.map((p) => p.config.name),
        );
        if (ctx.loadBalancer) await writeLoadBalancerConfig(ctx.driver, ctx.loadBalancer, ctx.nodes);
      } else {
        const running = new Set((await ctx.driver.listNodes(ctx.config.name)).filter((n) => n.state === "running").map((n) => n.name));
        await refreshPodNetwork(ctx.driver, ctx.config, ctx.nodes, running, ctx.loadBalancer);
      }
    },
  };
}

const PKI = "pki";

/** Issues the certificates the operation's nodes need, as ctx's pending "pki"; it sets ctx.pki. */
function startIssuingPki(ctx: ClusterContext, mode: "create" | "join", members: readonly Member[]): void {
  const dir = pkiDir(ctx.config.name);
  const issue = async () => {
    // Loaded here, not with this module: X.509's modules take a third of a second to load, which
    // this overlaps with the engine making the containers.
    const { addNode: issueNodePki, ensureClusterPki } = await import("../pki/provision.js");
    if (mode === "join" && !cps(members).length) {
      for (const p of ctx.targets) await issueNodePki(dir, { name: p.config.name, ip: p.ip });
      ctx.pki = await loadPki(dir);
      return;
    }
    ctx.pki = await ensureClusterPki(dir, {
      clusterName: ctx.config.name,
      serviceSubnet: ctx.config.networking.serviceSubnet,
      dnsDomain: ctx.config.networking.dnsDomain,
      controlPlanes: ctx.controlPlanes.map((p) => ({ name: p.config.name, ip: p.ip })),
      nodes: ctx.nodes.map((p) => ({ name: p.config.name, ip: p.ip })),
      extraSans: [ctx.config.networking.apiServerAddress, ...(ctx.loadBalancer ? [ctx.loadBalancer.ip] : [])],
    });
  };
  const issuing = issue();
  // Awaited by the certificates action; a failed container creation before it leaves it unawaited.
  issuing.catch(() => undefined);
  ctx.pending.set(PKI, issuing);
}

/**
 * A control plane's kubelet, which runs etcd and the control plane as static pods. Made with the
 * cluster, it starts before there is an API server to register with, and runs its pods on its own
 * until the API server answers. Joining a running cluster, its Node object is registered first,
 * as every other node's is, because its kubelet reaches the API server at once; and its static pods
 * wait until it is Ready: until its kubelet has reported what the node holds, that Node says it
 * holds no pods, and the kubelet would refuse them for good.
 */
function controlPlaneKubeletAction(mode: "create" | "join", members: readonly Member[]): A {
  return {
    name: "control-plane-kubelet",
    title: "control-plane kubelet",
    detail: [
      ...(mode === "join" ? [`register the Node objects of ${names(members)}`] : []),
      `start kubelet on ${names(members)}, to run etcd and the control plane as static pods` +
        (mode === "create" ? " (on its own until the API server answers)" : ""),
      ...(mode === "join" ? [`wait until ${names(members)} ${members.length === 1 ? "is" : "are"} Ready`] : []),
    ],
    run: async (ctx) => {
      const targets = placedCps(ctx.targets);
      if (mode === "join") await ctx.api.createNodeObjects(targets);
      await Promise.all(targets.map((p) => enableServices(ctx.driver, p.config.name, [...NODE_COMPONENTS])));
      if (mode === "join")
        await ctx.api.waitNodesReady(
          targets.map((p) => p.config.name),
          ctx.deps.signal,
        );
    },
  };
}

function etcdAction(mode: ProvisionMode, members: readonly Member[]): A {
  const detail = {
    create: [`start etcd on ${names(members)} (a static pod)`],
    join: [
      "wait until every etcd member is healthy (or refuse, naming the one that is not)",
      `add ${names(members)} to etcd, start its member (a static pod) and wait until it is healthy`,
    ],
    resume: ["wait until every etcd member is healthy"],
  }[mode];
  return {
    name: "etcd",
    title: "etcd",
    detail,
    run: async (ctx, progress) => {
      const targets = placedCps(ctx.targets);
      if (mode === "create") {
        await Promise.all(targets.map((p) => enableStaticPods(ctx.driver, p.config.name, ETCD_COMPONENTS)));
        return;
      }
      const existing = ctx.controlPlanes.filter((p) => mode === "resume" || !targets.includes(p));
      await requireEtcdHealthy(ctx, existing, progress);
      if (mode === "resume") return;
      for (const p of targets) {
        const operator = existing[0];
        if (!operator) throw new Error(`${p.config.name} cannot join etcd: the cluster has no other control plane`);
        await addEtcdMember(ctx, operator, p, progress);
        await enableStaticPods(ctx.driver, p.config.name, ETCD_COMPONENTS);
        // Its kubelet takes a moment to start the pod; until then the member has no name and no
        // client address, and etcd would refuse the next change.
        await requireEtcdHealthy(ctx, [...existing, p], progress);
      }
    },
  };
}

/**
 * Made with the cluster, the scheduler starts once the API server is ready, not with it: until the
 * API server has written its default RBAC roles, every list the scheduler makes is forbidden, and
 * its informers then retry with a growing back-off, which kept the first pods (kube-proxy's)
 * unscheduled for 2 s after they were made. The controller manager waits for the API server itself.
 * While the API server finishes starting, the control planes' Nodes are settled (see adoptNodes).
 */
function controlPlaneAction(mode: ProvisionMode, members: readonly Member[]): A {
  const early = CONTROL_PLANE_COMPONENTS.filter((c) => mode !== "create" || c !== "kube-scheduler");
  const late = CONTROL_PLANE_COMPONENTS.filter((c) => !early.includes(c));
  return {
    name: "control-plane",
    title: "control plane",
    detail: [
      ...(mode === "resume" ? [] : [`start ${early.join(", ")} on ${names(members)} (static pods)`]),
      ...(mode === "join" ? [] : ["wait until the API server answers"]),
      ...(mode === "create"
        ? ["meanwhile, register the control planes' Node objects and restart a kubelet that registered its Node itself"]
        : []),
      ...(late.length ? [`then start ${late.join(", ")} on ${names(members)}`] : []),
    ],
    run: async (ctx) => {
      const targets = mode === "resume" ? [] : placedCps(ctx.targets);
      await Promise.all(targets.map((p) => enableStaticPods(ctx.driver, p.config.name, early)));
      // Not waited for: the API server may be ready first (see unpackImages).
      // CRI-O unpacks into its store when it first starts (crio-preload).
      if (mode === "create" && nodeRuntime(ctx.config) === "containerd") void unpackLater(ctx).catch(() => undefined);
      if (mode === "create") await untilApiServerReady(ctx, (signal) => adoptNodes(ctx, targets, signal));
      else if (mode === "resume") await ctx.api.waitApiServer(ctx.deps.signal);
      await Promise.all(targets.map((p) => enableStaticPods(ctx.driver, p.config.name, late)));
    },
  };
}

/** The pod images a new cluster runs only once its API server is ready, unpacked on every node meanwhile. */
async function unpackLater(ctx: ClusterContext): Promise<void> {
  const refs = imageRefs(ctx.config.versions);
  const later = [refs.kubeScheduler, refs.kubeProxy, refs.coredns, refs.localPathProvisioner];
  await Promise.all(ctx.targets.map((p) => unpackImages(ctx.driver, p.config.name, later)));
}

/** Waits until the API server is ready while `alongside` runs; either failing stops the other. */
async function untilApiServerReady(ctx: ClusterContext, alongside: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const signal = ctx.deps.signal ? AbortSignal.any([stop.signal, ctx.deps.signal]) : stop.signal;
  try {
    await Promise.all([ctx.api.waitApiServer(ctx.deps.signal), alongside(signal)]);
  } finally {
    stop.abort();
  }
}

/**
 * A control plane's kubelet, started before its API server, registers its Node the moment the API
 * server serves, and its mirror pods are refused: the PriorityClass they name comes a second later.
 * It would post them again only at its next resync, a minute on. So, as soon as that PriorityClass
 * exists, the Nodes get their pod ranges and labels, and a kubelet that registered itself is
 * restarted (its pods keep running), which posts them at once, before the API server is ready.
 */
async function adoptNodes(ctx: ClusterContext, cpNodes: PlacedNode[], signal: AbortSignal): Promise<void> {
  await ctx.api.waitPriorityClass("system-node-critical", signal);
  const early = await ctx.api.createNodeObjects(cpNodes);
  await Promise.all(early.map((name) => restartService(ctx.driver, name, "kubelet")));
}

/**
 * The kubelets that have not started yet (workers'), each Node registered first, and every node
 * Ready. The control planes' Nodes are registered before this: made with the cluster, while their
 * API server finishes starting (see adoptNodes); joining one, before its kubelet starts.
 */
function kubeletAction(mode: ProvisionMode, members: readonly Member[], onRegistered?: (ctx: ClusterContext) => void): A {
  const workers = members.filter((n) => n.role !== "control-plane");
  const detail =
    mode === "resume"
      ? ["wait until every node is Ready"]
      : [
          ...(workers.length
            ? [`register the Node objects of ${names(workers)}`, `start ${NODE_COMPONENTS.join(", ")} on ${names(workers)}`]
            : []),
          `wait until ${names(members)} ${members.length === 1 ? "is" : "are"} Ready`,
        ];
  return {
    name: "kubelet",
    title: "kubelet",
    detail,
    run: async (ctx) => {
      const targets = ctx.targets;
      const waitFor = mode === "resume" ? ctx.state.nodes.map((n) => n.name) : targets.map((p) => p.config.name);
      if (mode !== "resume") {
        const starting = targets.filter((p) => p.config.role !== "control-plane");
        await ctx.api.createNodeObjects(starting);
        onRegistered?.(ctx);
        await Promise.all(starting.map((p) => enableServices(ctx.driver, p.config.name, [...NODE_COMPONENTS])));
      }
      await ctx.api.waitNodesReady(waitFor, ctx.deps.signal);
    },
  };
}
