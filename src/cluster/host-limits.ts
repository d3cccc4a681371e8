import { readFile } from "node:fs/promises";

/** inotify instances one node holds (kubelet, kube-proxy, containerd, the control plane): measured about 22. */
const INOTIFY_PER_NODE = 25;

/** The host's fs.inotify.max_user_instances, or undefined where it cannot be read. */
export async function readInotifyLimit(): Promise<number | undefined> {
  const raw = await readFile("/proc/sys/fs/inotify/max_user_instances", "utf8").catch(() => undefined);
  const limit = raw === undefined ? NaN : Number(raw.trim());
  return Number.isFinite(limit) ? limit : undefined;
}

/**
 * Warns when the host's inotify instance limit cannot hold the nodes about to run: past it, kubelets
 * fail to start cAdvisor and nodes never become Ready. Only meaningful when the engine is local.
 */
export function inotifyWarning(limit: number, nodesRunning: number, nodesToAdd: number): string | undefined {
  const needed = (nodesRunning + nodesToAdd) * INOTIFY_PER_NODE;
  if (needed <= limit) return undefined;
  return `fs.inotify.max_user_instances is ${limit}, and ${nodesRunning + nodesToAdd} nodes need about ${needed}; nodes may never become Ready.`;
}

export const INOTIFY_FIX = "Raise it with `sudo sysctl -w fs.inotify.max_user_instances=1024` (add it to /etc/sysctl.conf to keep it).";

/** Linux's net.ipv4.ip_unprivileged_port_start unless lowered: what is assumed where it cannot be read. */
export const DEFAULT_UNPRIVILEGED_PORT_START = 1024;

/** The host's net.ipv4.ip_unprivileged_port_start, or undefined where it cannot be read. */
export async function readUnprivilegedPortStart(): Promise<number | undefined> {
  const raw = await readFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").catch(() => undefined);
  const start = raw === undefined ? NaN : Number(raw.trim());
  return Number.isFinite(start) ? start : undefined;
}

/** How to let a rootless engine publish ports from `port` on. */
export const lowPortsFix = (port: number) =>
  `Allow it with \`sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${port}\` (add it to /etc/sysctl.d/ to keep it), or choose ports from 1024 on.`;
