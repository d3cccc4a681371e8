import { readFile } from "node:fs/promises";

/** inotify instances one node holds (kubelet, kube-proxy, containerd, the control plane): measured about 22. */
const INOTIFY_PER_NODE = 25;

/**
 * Warns when the host's inotify instance limit cannot hold the nodes about to run: past it, kubelets
 * fail to start cAdvisor and nodes never become Ready. Only meaningful when the engine is local.
 */
export async function inotifyWarning(nodesRunning: number, nodesToAdd: number): Promise<string | undefined> {
  const raw = await readFile("/proc/sys/fs/inotify/max_user_instances", "utf8").catch(() => undefined);
  if (!raw) return undefined;
  const limit = Number(raw.trim());
  const needed = (nodesRunning + nodesToAdd) * INOTIFY_PER_NODE;
  if (needed <= limit) return undefined;
  return (
    `fs.inotify.max_user_instances is ${limit}, and ${nodesRunning + nodesToAdd} nodes need about ${needed}; nodes may never become Ready. ` +
    "Raise it with `sudo sysctl -w fs.inotify.max_user_instances=1024` (add it to /etc/sysctl.conf to keep it)."
  );
}
