import type { ClusterStatus } from "../../src/day2/status.js";
import { describeAddonPorts } from "../../src/addons/host-ports.js";
import { describeRuntime } from "../../src/node/runtime/version.js";
import { printTable } from "./print.js";

export function printStatus(s: ClusterStatus): void {
  if (!s.exists) return void process.stdout.write(`there is no cluster "${s.profile}"\n`);
  process.stdout.write(
    `cluster "${s.profile}": ${s.running ? "running" : s.paused ? "paused" : "not running"}${s.kubernetesVersion ? `, Kubernetes ${s.kubernetesVersion}` : ""}${s.server ? `, API ${s.server}` : ""}\n`,
  );
  printTable(
    ["NODE", "ROLE", "CONTAINER", "RUNTIME", "KUBELET", "APISERVER", "ETCD"],
    s.nodes.map((n) => [n.name, n.role, n.container, n.runtime ? describeRuntime(n.runtime) : "n/a", n.kubelet, n.apiserver, n.etcd]),
  );
  if (s.addons.length) process.stdout.write(`addons: ${s.addons.join(", ")}\n`);
  if (s.addonPorts) process.stdout.write(`addon ports: ${describeAddonPorts(s.addonPorts)}\n`);
}
