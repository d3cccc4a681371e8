import { privilegedPortProblem, type BindPrivilege } from "./privileged-ports.js";

/**
 * The values the tunnel writes into status.loadBalancer.ingress[].ports[].error. Kubernetes asks
 * a load balancer's own reasons to look like "example.com/CamelCase".
 */
export const PORT_ERROR = {
  inUse: "kubeyard.dev/PortInUse",
  privileged: "kubeyard.dev/PrivilegedPort",
  listen: "kubeyard.dev/ListenFailed",
  nodeAddress: "kubeyard.dev/NodeAddressFailed",
  protocol: "kubeyard.dev/UnsupportedProtocol",
  noNodePort: "kubeyard.dev/NoNodePort",
} as const;

/** A Service port the tunnel does not serve: the status reason, and the words for its table. */
export interface PortFailure {
  port: number;
  protocol: string;
  error: string;
  message: string;
}

/**
 * Why listening on address:port/protocol failed, from the bind error (or the privilege check that
 * kept the tunnel from trying).
 */
export function listenFailure(address: string, port: number, protocol: string, cause: unknown, privilege: BindPrivilege): PortFailure {
  const where = `${address}:${port}/${protocol}`;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const privileged = privilegedPortProblem(port, privilege);
  if (privileged || code === "EACCES") {
    // EACCES despite the check: the kernel knows better (a sysctl changed since), so say what would allow it.
    const message = privileged ?? privilegedPortProblem(port, { unprivilegedPortStart: 65536, canBindAny: false })!;
    return { port, protocol, error: PORT_ERROR.privileged, message };
  }
  if (code === "EADDRINUSE")
    return { port, protocol, error: PORT_ERROR.inUse, message: `${where} is in use by another program on this host` };
  return { port, protocol, error: PORT_ERROR.listen, message: `cannot listen on ${where}: ${(cause as Error).message}` };
}
