import type { KubeConfig } from "@kubernetes/client-node";
import type { ClusterConfig } from "../config/index.js";
import { chooseAddonPorts, addonPortMappings, probePort, rechooseTakenAddonPorts } from "./addon-ports.js";
import type { NodeDriver } from "../drivers/types.js";
import { ensureClusterPki, loadPki, pkiPaths, type PkiBundle } from "../pki/index.js";
import { UserError } from "../util/errors.js";
import { addonContext, enableAddons } from "./addons.js";
import { waitForDeploymentAvailable } from "../kube/wait.js";
import { adminClient, createNodeObjects, waitApiServer, waitNodesReady } from "./api.js";
import { writeClusterKubeconfig } from "./kubeconfig.js";
import { nodeImageFor } from "./node-image.js";
import { nodePayload } from "./node-payload.js";
import { applyPodNetwork, writeLoadBalancerConfig } from "./pod-network.js";
import { enableServices } from "./services.js";
import { readState, writeState, pkiDir, type ClusterState } from "./state.js";
import { componentContext, needsLoadBalancer, placeLoadBalancer, placeNodes, type LoadBalancer, type PlacedNode } from "./topology.js";

export interface StartStep {
  title: string;
  run: (report: (text: string) => void) => Promise<void>;
}

export interface StartOptions {
  driver: NodeDriver;
  /** The kubeconfig file to add the context to, or null for --no-kubeconfig. */
  kubeconfigPath: string | null;
  /** Builds the node image when it is missing (kubeyard's own image only). */
  ensureImage: (report: (text: string) => void) => Promise<string>;
  /** Builds the API servers' load balancer image when missing (clusters with several control planes). */
  ensureLoadBalancerImage: (report: (text: string) => void) => Promise<string>;
  log: (msg: string) => void;
  /** Aborted on Ctrl-C: waits in progress give up so the caller can clean up. */
  signal?: AbortSignal;
  /** Enables one of the config's optional addons on the ready cluster (images and all). */
  enableAddon: (name: string, report: (text: string) => void) => Promise<void>;
}

/** What `start` found before doing anything: it decides which steps run. */
export type StartMode = "create" | "resume" | "running";

export interface StartPlan {
  mode: StartMode;
  steps: StartStep[];
  /** Set once the steps ran: the cluster's state. */
  state: () => ClusterState | undefined;
}

/**
 * Plans `start` for a validated config. A running cluster gets no steps (start changes nothing); a
 * stopped one is resumed with its workloads and volumes; otherwise it is created step by step:
 * network, nodes, certificates, etcd, control plane, kubelets, CoreDNS, storage, kubeconfig.
 */
export async function planStart(config: ClusterConfig, opts: StartOptions): Promise<StartPlan> {
  const existing = await readState(config.name);
  const nodes = await opts.driver.listNodes(config.name);
  if (existing && existing.phase === "ready" && nodes.length) {
    const allRunning = nodes.every((n) => n.state === "running");
    if (allRunning) return { mode: "running", steps: [], state: () => existing };
    return resumePlan(existing, opts);
  }
  return createPlan(config, opts);
}

function resumePlan(state: ClusterState, opts: StartOptions): StartPlan {
  let kc: KubeConfig | undefined;
  const steps: StartStep[] = [
    {
      title: "nodes",
      run: async () => {
        for (const n of await opts.driver.listNodes(state.name)) {
          if (n.state === "paused") await opts.driver.unpauseNode(n.name);
          else if (n.state !== "running") await opts.driver.startNode(n.name);
        }
      },
    },
    {
      title: "control plane",
      run: async () => {
        kc = adminClient(state, await loadPki(pkiDir(state.name)));
        await waitApiServer(kc, opts.signal);
      },
    },
    { title: "kubelet", run: async () => waitNodesReady(kc!, state.nodes.map((n) => n.name), opts.signal) },
    { title: "CoreDNS", run: async () => waitForDeploymentAvailable(kc!, "kube-system", "coredns", { timeoutMs: 300_000, signal: opts.signal }) },
    {
      title: "kubeconfig",
      run: async () => {
        if (state.kubeconfigPath) await writeClusterKubeconfig(state, await loadPki(pkiDir(state.name)));
      },
    },
  ];
  return { mode: "resume", steps, state: () => state };
}

function createPlan(config: ClusterConfig, opts: StartOptions): StartPlan {
  let state: ClusterState | undefined;
  let placed: PlacedNode[] = [];
  let pki: PkiBundle = {};
  let kc: KubeConfig | undefined;
  let systemAddons: SystemAddons | undefined;
  let image = "";
  let lbImage = "";
  let lb: LoadBalancer | undefined;
  const controlPlanes = () => placed.filter((p) => p.config.role === "control-plane");

  const steps: StartStep[] = [
    {
      title: "node image",
      run: async (report) => {
        image = await opts.ensureImage(report);
        if (needsLoadBalancer(config)) lbImage = await opts.ensureLoadBalancerImage(report);
      },
    },
    {
      title: "network",
      run: async () => {
        const port = await chooseApiServerPort(config);
        const addonPorts = await chooseAddonPorts(config, port);
        const network = await opts.driver.ensureNetwork(config.name, {
          avoid: [config.networking.podSubnet, config.networking.serviceSubnet],
        });
        placed = placeNodes(config, network.subnet);
        lb = needsLoadBalancer(config) ? placeLoadBalancer(config.name, network.subnet) : undefined;
        state = {
          name: config.name,
          config,
          apiServerPort: port,
          addonPorts,
          network,
          nodes: placed.map((p) => ({ name: p.config.name, role: p.config.role, ip: p.ip, podCIDR: p.podCIDR })),
          ...(lb ? { loadBalancer: lb } : {}),
          kubeconfigPath: opts.kubeconfigPath,
          addons: [],
          phase: "creating",
          createdAt: new Date().toISOString(),
        };
        await writeState(state);
      },
    },
    {
      title: "nodes",
      run: async (report) => {
        const apiPort = {
          containerPort: 6443,
          hostPort: state!.apiServerPort,
          listenAddress: config.networking.apiServerAddress,
          protocol: "TCP" as const,
        };
        // With several control planes the load balancer publishes the API; the addons' host ports
        // stay on the first control plane either way.
        const create = (p: PlacedNode) =>
          opts.driver.createNode({
            cluster: config.name,
            name: p.config.name,
            role: p.config.role,
            image: p.config.image ?? image,
            ip: p.ip,
            ports: [
              ...(p === controlPlanes()[0] ? [...(lb ? [] : [apiPort]), ...addonPortMappings(state!.addonPorts!)] : []),
              ...p.config.extraPortMappings.map((m) => ({ ...m })),
            ],
            mounts: p.config.extraMounts.map((m) => ({ ...m })),
          });
        const creating: Promise<unknown>[] = placed.map(async (p) => {
          // Another cluster starting at the same moment may have taken an addon port that was
          // free when it was chosen: the ports the config left open are chosen again.
          for (let attempt = 1; ; attempt++) {
            try {
              return await create(p);
            } catch (err) {
              const moved = p === controlPlanes()[0] && attempt < 3 && (await rechooseTakenAddonPorts(config, state!));
              if (!moved) throw err;
              await opts.driver.removeNode(p.config.name);
              state!.addonPorts = moved;
              await writeState(state!);
            }
          }
        });
        if (lb) {
          creating.push(
            opts.driver.createNode({ cluster: config.name, name: lb.name, role: "load-balancer", image: lbImage, ip: lb.ip, ports: [apiPort], mounts: [] }),
          );
        }
        await Promise.all(creating);
        report(`${placed.length} running${lb ? ", and a load balancer" : ""}`);
      },
    },
    {
      title: "certificates",
      run: async () => {
        await ensureClusterPki(pkiDir(config.name), {
          clusterName: config.name,
          serviceSubnet: config.networking.serviceSubnet,
          dnsDomain: config.networking.dnsDomain,
          controlPlanes: controlPlanes().map((p) => ({ name: p.config.name, ip: p.ip })),
          nodes: placed.map((p) => ({ name: p.config.name, ip: p.ip })),
          extraSans: [config.networking.apiServerAddress, ...(lb ? [lb.ip] : [])],
        });
        pki = await loadPki(pkiDir(config.name));
        await Promise.all(
          placed.map((p) => opts.driver.copyFiles(p.config.name, nodePayload(pki, componentContext(config, placed, p, lb)))),
        );
        // The boot hooks ran before these files existed; from now on every node start runs them.
        await applyPodNetwork(opts.driver, placed.map((p) => p.config.name));
        if (lb) await writeLoadBalancerConfig(opts.driver, lb, placed);
      },
    },
    {
      title: "etcd",
      run: async () => {
        await Promise.all(controlPlanes().map((p) => enableServices(opts.driver, p.config.name, ["etcd"])));
      },
    },
    {
      title: "control plane",
      run: async () => {
        await Promise.all(
          controlPlanes().map((p) =>
            enableServices(opts.driver, p.config.name, ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]),
          ),
        );
        kc = adminClient(state!, pki);
        await waitApiServer(kc, opts.signal);
      },
    },
    {
      title: "kubelet",
      run: async () => {
        // Registering the Nodes first fixes each one's pod range (it must match the CNI config
        // already written) and gives them their role labels and taints from the start.
        await createNodeObjects(kc!, placed);
        systemAddons = startSystemAddons(kc!, config, opts.signal);
        await Promise.all(placed.map((p) => enableServices(opts.driver, p.config.name, ["kubelet", "kube-proxy"])));
        await waitNodesReady(kc!, placed.map((p) => p.config.name), opts.signal);
      },
    },
    { title: "CoreDNS", run: () => systemAddons!.coredns },
    {
      title: "storage",
      run: async () => {
        await systemAddons!.storage;
        state!.addons = ["coredns", ...STORAGE_ADDONS];
      },
    },
    {
      title: "kubeconfig",
      run: async () => {
        state!.phase = "ready";
        await writeState(state!);
        if (opts.kubeconfigPath) await writeClusterKubeconfig(state!, pki);
      },
    },
    ...config.addons
      .filter((a) => !["coredns", "storage-provisioner", "default-storageclass"].includes(a))
      .map((name) => ({ title: `addon ${name}`, run: (report: (text: string) => void) => opts.enableAddon(name, report) })),
  ];
  return { mode: "create", steps, state: () => state };
}

const STORAGE_ADDONS = ["storage-provisioner", "default-storageclass"];

interface SystemAddons {
  coredns: Promise<void>;
  storage: Promise<void>;
}

/**
 * Applies CoreDNS and the storage addons as soon as the Nodes are registered, each then waiting
 * until it works. The controller manager takes seconds after the API server answers before its
 * controllers create pods; started here, that overlaps with the kubelets starting, rather than
 * following them. Their own steps await them.
 */
function startSystemAddons(kc: KubeConfig, config: ClusterConfig, signal?: AbortSignal): SystemAddons {
  const coredns = enableAddons(kc, ["coredns"], addonContext(config), signal);
  const storage = enableAddons(kc, STORAGE_ADDONS, addonContext(config), signal);
  // A step that fails before theirs leaves them unawaited: not an unhandled rejection.
  for (const p of [coredns, storage]) p.catch(() => undefined);
  return { coredns, storage };
}

/** The API server's host port: the one asked for if it is free (else a clear error), or a free one. */
async function chooseApiServerPort(config: ClusterConfig): Promise<number> {
  const { apiServerAddress: host, apiServerPort: port } = config.networking;
  try {
    return await probePort(host, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new UserError(
        `port ${port} on ${host} is already in use, so the API server cannot be published there.`,
        "Choose another with --apiserver-port (or networking.apiServerPort in the config), or leave it out to get a free one.",
      );
    }
    throw err;
  }
}


export { nodeImageFor, pkiPaths };
