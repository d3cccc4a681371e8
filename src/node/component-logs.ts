import { KUBE_PROXY_NAME, KUBE_PROXY_NAMESPACE, STATIC_POD_NAMESPACE } from "../components/index.js";
import type { NodeDriver } from "../drivers/types.js";

/** The command that prints a component's last `lines` lines in a node. */
type TailCommand = (lines: number) => string[];

const supervised =
  (c: string): TailCommand =>
  (lines) => ["tail", "-n", String(lines), `/var/log/kubeyard/${c}/current`];
/** A component that runs as a pod logs where the kubelet puts it: namespace_pod_uid/container/restart.log, the newest last. */
const pod =
  (namespace: string, name: string): TailCommand =>
  (lines) => [
    "bash",
    "-c",
    `tail -q -n ${lines} $(ls -tr /var/log/pods/${namespace}_${name}-*/${name}/*.log 2>/dev/null | tail -n 1) </dev/null`,
  ];

/** The components whose tails a failed start prints; etcd and the API server run as the kubelet's static pods. */
const COMPONENTS: [string, TailCommand][] = [
  ["kubelet", supervised("kubelet")],
  ["kube-apiserver", pod(STATIC_POD_NAMESPACE, "kube-apiserver")],
  ["etcd", pod(STATIC_POD_NAMESPACE, "etcd")],
  ["containerd", supervised("containerd")],
  ["crio", supervised("crio")],
  [KUBE_PROXY_NAME, pod(KUBE_PROXY_NAMESPACE, KUBE_PROXY_NAME)],
];

/**
 * The last lines each component of each node logged: printed when a start fails, because the
 * half-made cluster (and its logs with it) is removed right after.
 */
export async function failureLogs(driver: NodeDriver, cluster: string, lines = 8): Promise<string> {
  const out: string[] = [];
  for (const node of await driver.listNodes(cluster).catch(() => [])) {
    if (node.state !== "running") continue;
    for (const [c, tail] of COMPONENTS) {
      const r = await driver.exec(node.name, tail(lines)).catch(() => undefined);
      const text = r?.exitCode === 0 ? r.stdout.trimEnd() : "";
      if (text) out.push(`--- ${node.name} ${c} ---\n${text}`);
    }
  }
  return out.join("\n");
}
