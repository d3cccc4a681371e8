import type { NodeDriver } from "../drivers/types.js";

const COMPONENTS = ["kubelet", "kube-apiserver", "etcd", "containerd"];
/** Where a component that runs as a pod logs (the kubelet's layout: namespace_pod_uid/container/restart.log). */
const POD_COMPONENTS: Record<string, string> = { "kube-proxy": "/var/log/pods/kube-system_kube-proxy-*/kube-proxy/*.log" };

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
    for (const [c, glob] of Object.entries(POD_COMPONENTS)) {
      const r = await driver
        .exec(node.name, ["bash", "-c", `tail -q -n ${lines} $(ls -tr ${glob} 2>/dev/null | tail -n 1) </dev/null`])
        .catch(() => undefined);
      const text = r?.exitCode === 0 ? r.stdout.trimEnd() : "";
      if (text) out.push(`--- ${node.name} ${c} ---\n${text}`);
    }
  }
  return out.join("\n");
}
