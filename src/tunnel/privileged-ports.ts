import { readFileSync } from "node:fs";

/** What the host allows this process: the lowest port anyone may bind, and CAP_NET_BIND_SERVICE. */
export interface BindPrivilege {
  unprivilegedPortStart: number;
  canBindAny: boolean;
}

const CAP_NET_BIND_SERVICE = 10n;

/** Reads net.ipv4.ip_unprivileged_port_start and this process's effective capabilities (Linux). */
export function bindPrivilege(): BindPrivilege {
  let start = 1024;
  try {
    start = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
  } catch {
    // Not Linux, or no /proc: the classic rule.
  }
  let cap = process.getuid?.() === 0;
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (eff) cap = ((BigInt(`0x${eff}`) >> CAP_NET_BIND_SERVICE) & 1n) === 1n;
  } catch {
    // Keep the uid guess.
  }
  return { unprivilegedPortStart: start, canBindAny: cap };
}

/** Why `port` cannot be listened on without privilege, and what to do; undefined when it can. */
export function privilegedPortProblem(port: number, p: BindPrivilege): string | undefined {
  if (p.canBindAny || port >= p.unprivilegedPortStart) return undefined;
  return (
    `port ${port} is below net.ipv4.ip_unprivileged_port_start (${p.unprivilegedPortStart}): allow it once with ` +
    `"sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${port}" (persist it in /etc/sysctl.d/), ` +
    `or give node the capability with "sudo setcap cap_net_bind_service=+ep $(command -v node)"`
  );
}
