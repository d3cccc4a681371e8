import type { NodeDriver } from "../drivers/types.js";

const COMPONENTS = ["kubelet", "kube-apiserver", "etcd", "containerd"];

/**
 * The last lines each component of each node logged: printed when a start fails, because the
 * half-made cluster (and its logs with it) is removed right after.
 */
export async function failureLogs(driver: NodeDriver, cluster: string, lines = 8): Promise<string> {
  const out: string[] = [];
  for (const node of await driver.listNodes(cluster).catch(() => [])) {
    if (node.state !== "running") continue;
    for (const c of COMPONENTS) {
      const r = await driver.exec(node.name, ["tail", "-n", String(lines), `/var/log/kubeyard/${c}/current`]).catch(() => undefined);
      const text = r?.exitCode === 0 ? r.stdout.trimEnd() : "";
      if (text) out.push(`--- ${node.name} ${c} ---\n${text}`);
    }
  }
  return out.join("\n");
}
