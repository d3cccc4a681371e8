import { CONTROL_PLANE_ROLE_LABEL, type ClusterConfig, type NodeConfig, type Taint } from "../config/index.js";
import { nodePodCIDR } from "../components/index.js";
import type { NodeDriver, NodeInfo } from "../drivers/types.js";
import { addNode as issueNodePki, ensureClusterPki, loadPki, pkiPaths, type PkiBundle } from "../pki/index.js";
import { UserError } from "../util/errors.js";
import { nthAddress } from "./addresses.js";
import { adminClient, createNodeObjects, waitNodesReady } from "./api.js";
import { writeClusterKubeconfig } from "./kubeconfig.js";
import { nodeImageFor } from "./node-image.js";
import { nodePayload } from "./node-payload.js";
import { refreshPodNetwork, writeLoadBalancerConfig } from "./pod-network.js";
import { enableServices } from "./services.js";
import { pkiDir, requireReadyState, writeState, type ClusterState } from "./state.js";
import { componentContext, placedFromState, type PlacedNode } from "./topology.js";

export type AddableRole = "worker" | "control-plane";

export interface NodeRow {
  name: string;
  role: string;
  container: string;
  ip: string;
  podCIDR: string;
}

const CONTROL_PLANE_TAINT: Taint = { key: CONTROL_PLANE_ROLE_LABEL, value: "", effect: "NoSchedule" };
const ADMIN_CONF = "/etc/kubernetes/admin.conf";

/** The cluster's nodes as its state and the engine see them, the load balancer included. */
export async function listClusterNodes(driver: NodeDriver, profile: string): Promise<NodeRow[]> {
  const state = await requireReadyState(profile);
  const engine = new Map((await driver.listNodes(profile)).map((n) => [n.name, n]));
  const rows: NodeRow[] = placedFromState(state).map((p) => ({
    name: p.config.name,
    role: p.config.role,
    container: engine.get(p.config.name)?.state ?? "missing",
    ip: p.ip,
    podCIDR: p.podCIDR,
  }));
  if (state.loadBalancer) {
    const lb = state.loadBalancer;
    rows.push({ name: lb.name, role: "load-balancer", container: engine.get(lb.name)?.state ?? "missing", ip: lb.ip, podCIDR: "" });
  }
  return rows;
}

/**
 * Adds a node to a running cluster: a container with the next free name, address and pod range,
 * its certificates and config, routes to and from every other node's pods, and its kubelet
 * registered and Ready. A control plane joins etcd as a new member and the load balancer; that
 * needs a cluster made with several control planes (one control plane has no load balancer in front).
 * The first worker taints the control planes, as a cluster created with workers has them.
 */
export async function addClusterNode(
  driver: NodeDriver,
  profile: string,
  role: AddableRole,
  opts: {
    signal?: AbortSignal;
    log?: (m: string) => void;
    /** Gives the new node what the enabled addons put on every node: their images and node files. */
    prepareForAddons?: () => Promise<void>;
  } = {},
): Promise<string> {
  const state = await requireReadyState(profile);
  const engineNodes = await requireRunning(driver, state);
  if (role === "control-plane" && !state.loadBalancer) {
    throw new UserError(
      `cluster "${profile}" has a single control plane with no load balancer in front of it, so it cannot take another control plane.`,
      "Create the cluster with --control-planes 2 or more (they get a load balancer), then `kubeyard node add --role control-plane` adds more.",
    );
  }
  const placed = placedFromState(state);
  const fresh = nextNode(state, role, placed);
  const config = withNodes(state.config, [...state.config.nodes, fresh.config]);
  const all = [...placed, fresh];
  const firstWorker = role === "worker" && !placed.some((p) => p.config.role === "worker");
  const image = engineNodes.find((n) => n.role !== "load-balancer")?.image ?? nodeImageFor(state.config);

  // Recorded before the container exists, so `delete` finds it whatever happens next.
  const next: ClusterState = {
    ...state,
    config,
    nodes: [...state.nodes, { name: fresh.config.name, role, ip: fresh.ip, podCIDR: fresh.podCIDR }],
  };
  await writeState(next);
  const dir = pkiDir(profile);
  let bundle: PkiBundle;
  const kc = adminClient(state, await loadPki(dir));
  try {
    await driver.createNode({
      cluster: profile,
      name: fresh.config.name,
      role,
      image,
      ip: fresh.ip,
      ports: fresh.config.extraPortMappings.map((m) => ({ ...m })),
      mounts: fresh.config.extraMounts.map((m) => ({ ...m })),
    });
    if (role === "control-plane") {
      const cps = all.filter((p) => p.config.role === "control-plane");
      bundle = await ensureClusterPki(dir, {
        clusterName: profile,
        serviceSubnet: config.networking.serviceSubnet,
        dnsDomain: config.networking.dnsDomain,
        controlPlanes: cps.map((p) => ({ name: p.config.name, ip: p.ip })),
        nodes: all.map((p) => ({ name: p.config.name, ip: p.ip })),
        extraSans: [config.networking.apiServerAddress, state.loadBalancer!.ip],
      });
    } else {
      await issueNodePki(dir, { name: fresh.config.name, ip: fresh.ip });
      bundle = await loadPki(dir);
    }
    const ctx = {
      ...componentContext(config, all, fresh, state.loadBalancer),
      ...(role === "control-plane" ? { etcdInitialClusterState: "existing" as const } : {}),
    };
    await driver.copyFiles(fresh.config.name, nodePayload(bundle, ctx));
    const running = new Set([...engineNodes.map((n) => n.name), fresh.config.name]);
    await refreshPodNetwork(driver, config, all, running, state.loadBalancer);

    if (role === "control-plane") {
      const peer = placed.find((p) => p.config.role === "control-plane")!;
      await etcdctl(driver, peer.config.name, ["member", "add", fresh.config.name, `--peer-urls=https://${fresh.ip}:2380`]);
      await enableServices(driver, fresh.config.name, ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
    }
    await opts.prepareForAddons?.();
    await createNodeObjects(kc, [fresh]);
    await enableServices(driver, fresh.config.name, ["kubelet", "kube-proxy"]);
    await waitNodesReady(kc, [fresh.config.name], opts.signal);
    if (role === "control-plane") {
      await writeLoadBalancerConfig(driver, state.loadBalancer!, all);
      if (state.kubeconfigPath) await writeClusterKubeconfig(next, bundle);
    }
  } catch (err) {
    opts.log?.(`adding ${fresh.config.name} failed; removing it again`);
    await removeQuietly(driver, state, fresh);
    throw err;
  }
  if (firstWorker) await setControlPlaneTaint(driver, next, true);
  return fresh.config.name;
}

/**
 * Removes a node from a running cluster: drained first (its pods evicted, DaemonSets' left), its
 * Node object and container deleted, its pod range unrouted everywhere. A control plane also
 * leaves etcd and the load balancer; the last control plane cannot be removed. When the last
 * worker goes, the control planes lose their NoSchedule taint so pods can run again.
 */
export async function deleteClusterNode(driver: NodeDriver, profile: string, name: string): Promise<void> {
  const state = await requireReadyState(profile);
  const placed = placedFromState(state);
  const target = placed.find((p) => p.config.name === name);
  if (!target) {
    const known = [...placed.map((p) => p.config.name), ...(state.loadBalancer ? [state.loadBalancer.name] : [])];
    if (state.loadBalancer?.name === name) {
      throw new UserError(`${name} is the cluster's API load balancer, not a node that can be deleted.`, `The nodes are: ${placed.map((p) => p.config.name).join(", ")}.`);
    }
    throw new UserError(`cluster "${profile}" has no node named "${name}".`, `Its nodes are: ${known.join(", ")}.`);
  }
  const cps = placed.filter((p) => p.config.role === "control-plane");
  if (target.config.role === "control-plane" && cps.length === 1) {
    throw new UserError(`${name} is the cluster's only control plane, so it cannot be deleted.`, `Delete the whole cluster with \`kubeyard delete -p ${profile}\`.`);
  }
  const engineNodes = await requireRunning(driver, state);
  const remaining = placed.filter((p) => p !== target);
  const operator = remaining.find((p) => p.config.role === "control-plane")!;

  await kubectl(driver, operator.config.name, [
    "drain", name, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--grace-period=30", "--timeout=300s",
  ]);
  if (target.config.role === "control-plane") {
    if (state.loadBalancer) await writeLoadBalancerConfig(driver, state.loadBalancer, remaining);
    const id = await etcdMemberId(driver, operator.config.name, target);
    if (id) await etcdctl(driver, operator.config.name, ["member", "remove", id]);
  }
  await kubectl(driver, operator.config.name, ["delete", "node", name, "--ignore-not-found", "--wait=false"]);
  await driver.removeNode(name);
  // What the drain left (DaemonSet pods, mirror pods) would otherwise linger until the pod garbage
  // collector notices the node is gone; with the container removed nothing runs them any more.
  await kubectl(driver, operator.config.name, [
    "delete", "pods", "--all-namespaces", "--field-selector", `spec.nodeName=${name}`, "--force", "--grace-period=0", "--wait=false",
  ]);
  const next: ClusterState = {
    ...state,
    config: withNodes(state.config, state.config.nodes.filter((n) => n.name !== name)),
    nodes: state.nodes.filter((n) => n.name !== name),
  };
  await writeState(next);
  const running = new Set(engineNodes.map((n) => n.name).filter((n) => n !== name));
  await refreshPodNetwork(driver, next.config, remaining, running, state.loadBalancer);
  if (target.config.role === "worker" && !remaining.some((p) => p.config.role === "worker")) {
    await setControlPlaneTaint(driver, next, false);
  }
}

/** The next node of a role: the first free name, the lowest free address and pod range. */
function nextNode(state: ClusterState, role: AddableRole, placed: PlacedNode[]): PlacedNode {
  const names = new Set(placed.map((p) => p.config.name));
  let n = 1;
  const nameOf = (i: number) => `${state.name}-${role}${i > 1 ? i : ""}`;
  while (names.has(nameOf(n))) n++;
  const ips = new Set([...placed.map((p) => p.ip), ...(state.loadBalancer ? [state.loadBalancer.ip] : []), state.network.gateway]);
  let a = 2;
  while (ips.has(nthAddress(state.network.subnet, a))) a++;
  const ip = nthAddress(state.network.subnet, a);
  if (state.loadBalancer && ip === state.loadBalancer.ip) throw new UserError(`the cluster network ${state.network.subnet} has no free address left for another node`);
  const ranges = new Set(placed.map((p) => p.podCIDR));
  const { podSubnet, nodeCidrMaskSize } = state.config.networking;
  let r = 0;
  while (ranges.has(nodePodCIDR(podSubnet, nodeCidrMaskSize, r))) r++;
  const hasWorkers = role === "worker" || placed.some((p) => p.config.role === "worker");
  const config: NodeConfig = {
    name: nameOf(n),
    role,
    image: state.config.nodeImage,
    labels: role === "control-plane" ? { [CONTROL_PLANE_ROLE_LABEL]: "" } : {},
    taints: role === "control-plane" && hasWorkers ? [CONTROL_PLANE_TAINT] : [],
    extraPortMappings: [],
    extraMounts: [],
  };
  return { config, ip, podCIDR: nodePodCIDR(podSubnet, nodeCidrMaskSize, r) };
}

/** Control planes carry the NoSchedule taint exactly when the cluster has workers; the config records it. */
async function setControlPlaneTaint(driver: NodeDriver, state: ClusterState, on: boolean): Promise<void> {
  const cps = state.config.nodes.filter((n) => n.role === "control-plane");
  const operator = cps[0]!.name;
  const taint = `${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}`;
  for (const cp of cps) {
    const has = cp.taints.some((t) => t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect);
    if (has === on) continue;
    await kubectl(driver, operator, ["taint", "nodes", cp.name, on ? taint : `${taint}-`, "--overwrite"]);
  }
  const nodes = state.config.nodes.map((n) => {
    if (n.role !== "control-plane") return n;
    const others = n.taints.filter((t) => !(t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect));
    return { ...n, taints: on ? [CONTROL_PLANE_TAINT, ...others] : others };
  });
  await writeState({ ...state, config: withNodes(state.config, nodes) });
}

function withNodes(config: ClusterConfig, nodes: readonly NodeConfig[]): ClusterConfig {
  return { ...config, nodes };
}

async function requireRunning(driver: NodeDriver, state: ClusterState): Promise<NodeInfo[]> {
  const nodes = await driver.listNodes(state.name);
  const down = nodes.filter((n) => n.state !== "running");
  if (down.length) {
    throw new UserError(
      `cluster "${state.name}" is not running (${down.map((n) => `${n.name} is ${n.state}`).join(", ")}).`,
      "Start it with `kubeyard start` first.",
    );
  }
  return nodes;
}

async function kubectl(driver: NodeDriver, node: string, args: string[]): Promise<string> {
  const r = await driver.exec(node, ["kubectl", "--kubeconfig", ADMIN_CONF, ...args]);
  if (r.exitCode !== 0) throw new UserError(`kubectl ${args.slice(0, 2).join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

async function etcdctl(driver: NodeDriver, node: string, args: string[]): Promise<string> {
  const pki = (rel: string) => `/etc/kubernetes/pki/${rel}`;
  const r = await driver.exec(node, [
    "etcdctl",
    "--endpoints=https://127.0.0.1:2379",
    `--cacert=${pki(pkiPaths.etcdCa.cert)}`,
    `--cert=${pki(pkiPaths.etcdHealthcheckClient.cert)}`,
    `--key=${pki(pkiPaths.etcdHealthcheckClient.key)}`,
    ...args,
  ]);
  if (r.exitCode !== 0) throw new UserError(`etcdctl ${args.slice(0, 2).join(" ")} failed on ${node}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * The hex id of the etcd member of a node (`member list` prints "id, status, name, peer urls, ...";
 * a member added but never started has no name yet, so its peer URL identifies it too).
 */
async function etcdMemberId(driver: NodeDriver, node: string, member: PlacedNode): Promise<string | undefined> {
  const list = await etcdctl(driver, node, ["member", "list"]);
  const peer = `https://${member.ip}:2380`;
  return list
    .split("\n")
    .map((l) => l.split(",").map((f) => f.trim()))
    .find((f) => f[2] === member.config.name || f[3] === peer)?.[0];
}

/** Undoes a node add that failed part-way: its etcd membership, Node object, container and routes. */
async function removeQuietly(driver: NodeDriver, state: ClusterState, fresh: PlacedNode): Promise<void> {
  const operator = state.config.nodes.find((n) => n.role === "control-plane")!.name;
  if (fresh.config.role === "control-plane") {
    const id = await etcdMemberId(driver, operator, fresh).catch(() => undefined);
    if (id) await etcdctl(driver, operator, ["member", "remove", id]).catch(() => undefined);
  }
  await kubectl(driver, operator, ["delete", "node", fresh.config.name, "--ignore-not-found", "--wait=false"]).catch(() => undefined);
  await driver.removeNode(fresh.config.name).catch(() => undefined);
  await writeState(state).catch(() => undefined);
  const running = new Set((await driver.listNodes(state.name).catch(() => [])).map((n) => n.name));
  await refreshPodNetwork(driver, state.config, placedFromState(state), running, state.loadBalancer).catch(() => undefined);
}
