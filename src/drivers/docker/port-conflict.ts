import { UserError } from "../../util/errors.js";
import type { PortMapping } from "../types.js";
import { messageOf } from "./engine-errors.js";

/**
 * Recognises the engine's "that host port is taken" failure of a container start, and says which
 * port, on which address, and how to pick another. Docker reports it as either its own port
 * allocator refusing ("Bind for 127.0.0.1:6443 failed: port is already allocated", another container
 * holds it) or its proxy failing to listen ("listen tcp4 127.0.0.1:6443: bind: address already in
 * use", some host process holds it); Podman words it like the latter.
 */
export function portInUseError(err: unknown, node: string, ports: readonly PortMapping[]): UserError | undefined {
  const msg = messageOf(err);
  const m =
    /Bind for (\S+?):(\d+) failed: port is already allocated/i.exec(msg) ??
    /listen (?:tcp|udp)[46]? (\S+?):(\d+): bind: address already in use/i.exec(msg) ??
    /(?:cannot listen on|rootlessport listen \S+) (\S+?):(\d+).*address already in use/i.exec(msg);
  // A bare "Address already in use" is the engine refusing a taken static IP, not a port.
  if (!m && !/bind: address already in use|port is already allocated/i.test(msg)) return undefined;
  const address = m?.[1]?.replace(/^\[(.*)\]$/, "$1");
  const hostPort = m ? Number(m[2]) : undefined;
  const mapping = ports.find((p) => p.hostPort === hostPort) ?? (ports.length === 1 ? ports[0] : undefined);
  const where = hostPort !== undefined ? `${address ?? mapping?.listenAddress}:${hostPort}` : "one of its host ports";
  const what = mapping ? ` (the node's port ${mapping.containerPort}/${mapping.protocol.toLowerCase()})` : "";
  return new UserError(
    `Cannot start node ${node}: ${where}${what} is already in use on this host.`,
    "Choose another port: --apiserver-port (networking.apiServerPort) if it is the API server's, otherwise the hostPort of that mapping in the cluster config; or stop whatever listens there.",
  );
}
