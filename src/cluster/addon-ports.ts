import net from "node:net";
import { ADDON_PORTS, ADDON_PORT_ADDRESS, ADDON_PORT_NAMES, type AddonPortName, type AddonPorts } from "../config/addon-ports.js";
import type { ClusterConfig } from "../config/index.js";
import type { PortMapping } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import type { ClusterState } from "./state.js";

/**
 * The host ports addons get, chosen when the cluster is created: what the config sets (which must be
 * free, else a clear error before anything exists), else the usual number when it is free, else a
 * free one. Ports the cluster publishes otherwise (the API server, extra mappings) are avoided.
 */
export async function chooseAddonPorts(config: ClusterConfig, apiServerPort: number): Promise<AddonPorts> {
  const taken = new Set<number>([apiServerPort, ...config.nodes.flatMap((n) => n.extraPortMappings.map((m) => m.hostPort))]);
  const out = {} as Record<AddonPortName, number>;
  for (const name of ADDON_PORT_NAMES) {
    const asked = config.addonPorts[name];
    let port: number;
    if (asked === null) {
      const preferred = ADDON_PORTS[name].preferred;
      port = (!taken.has(preferred) && (await freeAt(preferred))) || (await anyFreePort(taken));
    } else if (asked === 0) {
      port = await anyFreePort(taken);
    } else {
      if (!(await freeAt(asked))) {
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

/**
 * After a node failed to start: the addon ports the config left open that are now taken (another
 * cluster started at the same moment), chosen again; undefined when none is, so the failure stands.
 */
export async function rechooseTakenAddonPorts(config: ClusterConfig, state: ClusterState): Promise<AddonPorts | undefined> {
  const current = state.addonPorts;
  if (!current) return undefined;
  const next = { ...current } as Record<AddonPortName, number>;
  const taken = new Set<number>([state.apiServerPort, ...Object.values(current)]);
  let moved = false;
  for (const name of ADDON_PORT_NAMES) {
    if (config.addonPorts[name] !== null && config.addonPorts[name] !== 0) continue;
    if (await freeAt(current[name])) continue;
    next[name] = await anyFreePort(taken);
    taken.add(next[name]);
    moved = true;
  }
  return moved ? next : undefined;
}

/** "ingress http 127.0.0.1:80, ingress https 127.0.0.1:443, registry 127.0.0.1:5000". */
export function describeAddonPorts(ports: AddonPorts): string {
  const label: Record<AddonPortName, string> = { ingressHttp: "ingress http", ingressHttps: "ingress https", registry: "registry" };
  return ADDON_PORT_NAMES.map((n) => `${label[n]} ${ADDON_PORT_ADDRESS}:${ports[n]}`).join(", ");
}

/** The node's port mappings for the chosen addon ports. */
export function addonPortMappings(ports: AddonPorts): PortMapping[] {
  return ADDON_PORT_NAMES.map((n) => ({
    containerPort: ADDON_PORTS[n].containerPort,
    hostPort: ports[n],
    listenAddress: ADDON_PORT_ADDRESS,
    protocol: "TCP" as const,
  }));
}

async function freeAt(port: number): Promise<number | false> {
  try {
    return await probePort(ADDON_PORT_ADDRESS, port);
  } catch (err) {
    // Without root a port below 1024 cannot be probed, though the engine (root) may publish it.
    if ((err as NodeJS.ErrnoException).code === "EACCES") return port;
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") return false;
    throw err;
  }
}

async function anyFreePort(avoid: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const port = await probePort(ADDON_PORT_ADDRESS, 0);
    if (!avoid.has(port)) return port;
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
