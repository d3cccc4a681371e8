import dgram from "node:dgram";
import net from "node:net";
import {
  ADDON_PORTS,
  ADDON_PORT_ADDRESS,
  ADDON_PORT_NAMES,
  type AddonPortName,
  type AddonPortProtocol,
  type AddonPorts,
} from "../config/addon-ports.js";
import type { Addon } from "./index.js";
import type { ClusterConfig } from "../config/index.js";
import type { EngineHost, PortMapping } from "../drivers/types.js";
import { DEFAULT_UNPRIVILEGED_PORT_START, lowPortsFix, readUnprivilegedPortStart } from "../cluster/host-limits.js";
import { UserError } from "../util/errors.js";
import { listProfiles, readState, type ClusterState } from "../cluster/state.js";

/**
 * The host ports addons get, chosen when the cluster is created: what the config sets (which must be
 * free, else a clear error before anything exists), else the usual number when it is free, else a
 * free one. Ports the cluster publishes otherwise (the API server, extra mappings) are avoided, and
 * so are those of the other clusters, stopped ones too: a stopped cluster's ports are free on the
 * host, but it needs them back when it starts again. A port with several protocols (DNS: UDP and
 * TCP) must be free in each of them. A usual number below `lowest`, which a rootless engine cannot
 * publish, is passed over for a free port (see lowestPublishablePort).
 */
export async function chooseAddonPorts(config: ClusterConfig, apiServerPort: number, lowest = 0): Promise<AddonPorts> {
  const others = await portsOfOtherClusters(config.name);
  const taken = new Set<number>([
    apiServerPort,
    ...config.nodes.flatMap((n) => n.extraPortMappings.map((m) => m.hostPort)),
    ...others.keys(),
  ]);
  const out = {} as Record<AddonPortName, number>;
  for (const name of ADDON_PORT_NAMES) {
    const asked = config.addonPorts[name];
    const { protocols } = ADDON_PORTS[name];
    let port: number;
    if (asked === null) {
      const preferred = ADDON_PORTS[name].preferred;
      const usable = preferred >= lowest && !taken.has(preferred);
      port = (usable && (await freeAt(preferred, protocols))) || (await anyFreePort(taken, protocols));
    } else if (asked === 0) {
      port = await anyFreePort(taken, protocols);
    } else {
      const owner = others.get(asked);
      if (owner) {
        throw new UserError(
          `port ${asked} on ${ADDON_PORT_ADDRESS} belongs to cluster "${owner}" (stopped or running), so ${ADDON_PORTS[name].what} cannot be published there.`,
          `Choose another in addonPorts.${name} of the cluster config, or delete that cluster first.`,
        );
      }
      if (!(await freeAt(asked, protocols))) {
        throw new UserError(
          `port ${asked} on ${ADDON_PORT_ADDRESS} is already in use, so ${ADDON_PORTS[name].what} cannot be published there.`,
          `Choose another in addonPorts.${name} of the cluster config, or leave it out to get ${ADDON_PORTS[name].preferred} when free, else a free port.`,
        );
      }
      port = asked;
    }
    taken.add(port);
    out[name] = port;
  }
  return out;
}

/** The host ports the other clusters kubeyard knows of publish (their API servers' and addons'), and whose they are. */
async function portsOfOtherClusters(name: string): Promise<Map<number, string>> {
  const owners = new Map<number, string>();
  for (const profile of (await listProfiles()).filter((p) => p !== name)) {
    const state = await readState(profile).catch(() => undefined);
    for (const port of state ? [state.apiServerPort, ...Object.values(state.addonPorts ?? {})] : []) owners.set(port, profile);
  }
  return owners;
}

const API_PORT_HINT =
  "Choose another with --apiserver-port (or networking.apiServerPort in the config), or leave it out to get a free one.";

/**
 * The API server's host port: the one the config asks for, which must be free and no other
 * cluster's (else a clear error before anything exists), or a free one no other cluster has.
 */
export async function chooseApiServerPort(config: ClusterConfig): Promise<number> {
  const { apiServerAddress: host, apiServerPort: asked } = config.networking;
  const others = await portsOfOtherClusters(config.name);
  if (!asked) return anyFreePort(new Set(others.keys()), ["TCP"], host);
  const owner = others.get(asked);
  if (owner) {
    throw new UserError(
      `port ${asked} belongs to cluster "${owner}" (stopped or running), so the API server cannot be published there.`,
      API_PORT_HINT,
    );
  }
  if (!(await freeAt(asked, ["TCP"], host))) {
    throw new UserError(`port ${asked} on ${host} is already in use, so the API server cannot be published there.`, API_PORT_HINT);
  }
  return asked;
}

/**
 * The lowest host port the engine can publish: a rootless engine binds them as its user, so only from
 * the host's net.ipv4.ip_unprivileged_port_start on (1024 unless lowered); any for a rootful one.
 */
export async function lowestPublishablePort(host: EngineHost): Promise<number> {
  return host.rootless ? ((await readUnprivilegedPortStart()) ?? DEFAULT_UNPRIVILEGED_PORT_START) : 0;
}

/** Refuses, before anything is made, a host port the config names that the engine cannot publish. */
export function refuseUnpublishablePorts(config: ClusterConfig, lowest: number): void {
  const named = [
    { port: config.networking.apiServerPort, what: "the API server (--apiserver-port)" },
    ...ADDON_PORT_NAMES.map((n) => ({ port: config.addonPorts[n], what: `${ADDON_PORTS[n].what} (addonPorts.${n})` })),
    ...config.nodes.flatMap((n) => n.extraPortMappings.map((m) => ({ port: m.hostPort, what: `${n.name}'s extraPortMappings` }))),
  ];
  const low = named.find((p) => p.port && p.port < lowest);
  if (low) {
    throw new UserError(
      `port ${low.port}, for ${low.what}, is below ${lowest}, the lowest port a rootless engine can publish on this host (net.ipv4.ip_unprivileged_port_start).`,
      lowPortsFix(low.port!),
    );
  }
}

/** Which of a cluster's host ports one container publishes. */
export interface PublishedPorts {
  api: boolean;
  addons: boolean;
}

/**
 * After a container failed to start: those of its ports that the config left open and that are now
 * taken (another cluster starting at the same moment chose them too), chosen again; undefined when
 * none is, so the failure stands.
 */
export async function rechooseTakenPorts(
  config: ClusterConfig,
  state: ClusterState,
  publishes: PublishedPorts,
): Promise<Pick<ClusterState, "apiServerPort" | "addonPorts"> | undefined> {
  const taken = new Set<number>([state.apiServerPort, ...Object.values(state.addonPorts ?? {})]);
  let moved = false;
  let apiServerPort = state.apiServerPort;
  const { apiServerAddress, apiServerPort: askedApi } = config.networking;
  if (publishes.api && !askedApi && !(await freeAt(apiServerPort, ["TCP"], apiServerAddress))) {
    apiServerPort = await anyFreePort(taken, ["TCP"], apiServerAddress);
    taken.add(apiServerPort);
    moved = true;
  }
  const current = state.addonPorts;
  let addonPorts = current;
  if (publishes.addons && current) {
    const next = { ...current };
    for (const name of ADDON_PORT_NAMES) {
      if (config.addonPorts[name] !== null && config.addonPorts[name] !== 0) continue;
      const { protocols } = ADDON_PORTS[name];
      if (await freeAt(current[name], protocols)) continue;
      next[name] = await anyFreePort(taken, protocols);
      taken.add(next[name]);
      moved = true;
    }
    addonPorts = next;
  }
  return moved ? { apiServerPort, addonPorts } : undefined;
}

/**
 * "ingress http 127.0.0.1:80, ingress https 127.0.0.1:443, registry 127.0.0.1:5000, ingress dns
 * 127.0.0.1:1053 (UDP and TCP)". A cluster made before a port existed has no number for it: left out.
 */
export function describeAddonPorts(ports: Partial<AddonPorts>): string {
  const label: Record<AddonPortName, string> = {
    ingressHttp: "ingress http",
    ingressHttps: "ingress https",
    registry: "registry",
    ingressDns: "ingress dns",
  };
  return ADDON_PORT_NAMES.filter((n) => ports[n] !== undefined)
    .map((n) => {
      const { protocols } = ADDON_PORTS[n];
      return `${label[n]} ${ADDON_PORT_ADDRESS}:${ports[n]}${protocols.length > 1 ? ` (${protocols.join(" and ")})` : ""}`;
    })
    .join(", ");
}

/**
 * The addon ports `addon` uses (probes, `${ports.x}` references) that the cluster has no number
 * for: it was made before kubeyard published them, and they cannot be added to its nodes now.
 */
export function portsMissingFor(addon: Addon, ports: Partial<AddonPorts> | undefined): AddonPortName[] {
  const refs = JSON.stringify([addon.nodeFiles, addon.usage, addon.manifests]);
  return ADDON_PORT_NAMES.filter(
    (n) => ports?.[n] === undefined && (addon.hostProbes.some((p) => p.port === n) || refs.includes(`\${ports.${n}}`)),
  );
}

/** The node's port mappings for the chosen addon ports, one per protocol. */
export function addonPortMappings(ports: AddonPorts): PortMapping[] {
  return ADDON_PORT_NAMES.flatMap((n) =>
    ADDON_PORTS[n].protocols.map((protocol) => ({
      containerPort: ADDON_PORTS[n].containerPort,
      hostPort: ports[n],
      listenAddress: ADDON_PORT_ADDRESS,
      protocol,
    })),
  );
}

/** `port` when it is free in every protocol, else false. */
async function freeAt(port: number, protocols: readonly AddonPortProtocol[], host = ADDON_PORT_ADDRESS): Promise<number | false> {
  for (const protocol of protocols) {
    try {
      await (protocol === "UDP" ? probeUdpPort : probePort)(host, port);
    } catch (err) {
      // Without root a port below 1024 cannot be probed, though the engine (root) may publish it.
      if ((err as NodeJS.ErrnoException).code === "EACCES") continue;
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") return false;
      throw err;
    }
  }
  return port;
}

async function anyFreePort(
  avoid: ReadonlySet<number>,
  protocols: readonly AddonPortProtocol[],
  host = ADDON_PORT_ADDRESS,
): Promise<number> {
  for (;;) {
    // The system picks a port free in one protocol; the others are asked for the same number.
    const port = await (protocols[0] === "UDP" ? probeUdpPort : probePort)(host, 0);
    if (!avoid.has(port) && (await freeAt(port, protocols, host))) return port;
  }
}

/** Binds `port` on `host` (0 = any) and lets it go again: the port that was free. */
export function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen({ host, port, exclusive: true }, () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

/** Binds UDP `port` on `host` (0 = any) and lets it go again: the port that was free. */
export function probeUdpPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    socket.once("error", reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      const got = socket.address().port;
      socket.close(() => resolve(got));
    });
  });
}
