import type Docker from "dockerode";
import { UserError } from "../../util/errors.js";
import type { ClusterNetwork } from "../types.js";
import { isConflict, isNotFound, messageOf, statusOf } from "./engine-errors.js";
import { hostRoutes } from "./host-routes.js";
import { leaveClusterNetwork } from "./services.js";
import { LABEL_CLUSTER } from "./labels.js";
import { DEFAULT_AVOID, chooseSubnet, looseCIDR, type SubnetChoice } from "./subnet.js";
import { formatIP, nthAddress } from "../../config/ip.js";

/** One user-defined bridge per cluster: nodes find each other by name on it, and the host reaches them by IP. */
export function networkName(cluster: string): string {
  return `${NETWORK_PREFIX}${cluster}`;
}

const NETWORK_PREFIX = "kubeyard-";

/** The cluster whose network `name` is (networkName read backwards), or undefined for another network. */
export function clusterOfNetwork(name: string): string | undefined {
  return name.startsWith(NETWORK_PREFIX) ? name.slice(NETWORK_PREFIX.length) : undefined;
}

// Each lost race against another process costs one attempt; more than this means something else is wrong.
const MAX_ATTEMPTS = 16;

export async function ensureClusterNetwork(
  docker: Docker,
  cluster: string,
  opts: { avoid?: readonly string[] } = {},
): Promise<ClusterNetwork> {
  const name = networkName(cluster);
  const existing = await findClusterNetwork(docker, cluster);
  if (existing) return describe(existing);
  const lost: string[] = [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const choice = await freeClusterSubnet(docker, opts.avoid ?? DEFAULT_AVOID, lost);
    if (!choice) {
      throw new UserError(
        `No free private /24 is left for the network of cluster "${cluster}": every candidate overlaps an existing Docker network or a host route.`,
        "Remove Docker networks you no longer need (`docker network prune`).",
      );
    }
    try {
      await docker.createNetwork({
        Name: name,
        Driver: "bridge",
        // Engines before API 1.44 allow two networks of one name unless asked not to.
        CheckDuplicate: true,
        Labels: { [LABEL_CLUSTER]: cluster },
        IPAM: { Driver: "default", Config: [{ Subnet: choice.subnet, Gateway: choice.gateway }] },
        Options: { "com.docker.network.bridge.enable_ip_masquerade": "true" },
      });
      return { name, ...choice };
    } catch (err) {
      if (isConflict(err)) {
        // Another kubeyard process created this cluster's network first: use it.
        const theirs = await findClusterNetwork(docker, cluster);
        if (theirs) return describe(theirs);
      }
      if (isPoolOverlap(err)) {
        // Another process (or a network created meanwhile) took this range since we looked.
        lost.push(choice.subnet);
        continue;
      }
      throw err;
    }
  }
  throw new Error(`could not create network ${name}: every subnet tried was taken meanwhile (${lost.join(", ")})`);
}

/** The subnet a new cluster network would get now: the first candidate clear of the engine's networks, host routes, `avoid` and `lost`. */
export async function freeClusterSubnet(
  docker: Docker,
  avoid: readonly string[] = DEFAULT_AVOID,
  lost: readonly string[] = [],
): Promise<SubnetChoice | undefined> {
  const [engineRanges, routes] = await Promise.all([engineSubnets(docker), hostRoutes()]);
  return chooseSubnet([...engineRanges, ...routes, ...lost], avoid);
}

/** Removes the cluster's network; absent is fine. A network of that name kubeyard did not make is left alone. */
export async function removeClusterNetwork(docker: Docker, cluster: string): Promise<void> {
  const net = await findClusterNetwork(docker, cluster, { foreign: "ignore" });
  if (!net) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await leaveClusterNetwork(docker, net.Id);
      await docker.getNetwork(net.Id).remove();
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      // A kubeyard service may join between the two calls (a `registry-mirror start` meanwhile): once more.
      if (attempt < 3 && hasActiveEndpoints(err)) continue;
      if (hasActiveEndpoints(err)) {
        throw new UserError(
          `The network ${net.Name} still has containers attached, so it cannot be removed.`,
          `Remove those containers first (\`docker network inspect ${net.Name}\` lists them).`,
        );
      }
      throw err;
    }
  }
}

function hasActiveEndpoints(err: unknown): boolean {
  return statusOf(err) === 403 && /active endpoints/i.test(messageOf(err));
}

interface NetworkSummary {
  Id: string;
  Name: string;
  Labels?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
}

/**
 * The cluster's network if it exists. A network that has the name but not the label was made by
 * someone else: by default that is an error, since creating a node on it would mix it into a stranger's network.
 */
export async function findClusterNetwork(
  docker: Docker,
  cluster: string,
  opts: { foreign?: "error" | "ignore" } = {},
): Promise<NetworkSummary | undefined> {
  const name = networkName(cluster);
  // The engine's name filter matches substrings; only the exact name counts.
  const found = ((await docker.listNetworks({ filters: { name: [name] } })) as NetworkSummary[]).filter((n) => n.Name === name);
  const ours = found.find((n) => n.Labels?.[LABEL_CLUSTER] === cluster);
  if (ours || !found.length || opts.foreign === "ignore") return ours;
  throw new UserError(
    `A Docker network named ${name} exists but was not created by kubeyard for cluster "${cluster}".`,
    `Remove or rename it (\`docker network rm ${name}\`), or choose another cluster name.`,
  );
}

function describe(net: NetworkSummary): ClusterNetwork {
  const v4 = (net.IPAM?.Config ?? []).find((c) => c.Subnet && looseCIDR(c.Subnet)?.family === 4);
  const cidr = v4?.Subnet ? looseCIDR(v4.Subnet) : undefined;
  if (!v4?.Subnet || !cidr) throw new Error(`network ${net.Name} has no IPv4 subnet`);
  return { name: net.Name, subnet: v4.Subnet, gateway: v4.Gateway || formatIP(nthAddress(cidr, 1)) };
}

async function engineSubnets(docker: Docker): Promise<string[]> {
  const nets = (await docker.listNetworks()) as NetworkSummary[];
  return nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s));
}

function isPoolOverlap(err: unknown): boolean {
  return /pool overlaps|overlapping ipv4|overlaps with other one/i.test(messageOf(err));
}
