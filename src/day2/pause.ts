import type { NodeDriver } from "../drivers/types.js";
import { waitForDeploymentAvailable } from "../kube/wait.js";
import { loadPki } from "../pki/store.js";
import { UserError } from "../util/errors.js";
import { adminClient, waitApiServer, waitNodesReady } from "../cluster/api.js";
import { pkiDir, readState } from "../cluster/state.js";

/**
 * Freezes every node (the engine's pause: processes stop where they are, memory and files stay).
 * Returns the nodes that were paused by this call.
 */
export async function pauseCluster(driver: NodeDriver, name: string): Promise<string[]> {
  const nodes = await driver.listNodes(name);
  if (!nodes.length) throw new UserError(`there is no cluster "${name}"`, "`kubeyard profile list` shows the clusters there are.");
  const stopped = nodes.find((n) => n.state === "stopped");
  if (stopped)
    throw new UserError(
      `node ${stopped.name} is stopped, so the cluster cannot be paused`,
      "Start it with `kubeyard start`, or leave it stopped.",
    );
  const running = nodes.filter((n) => n.state === "running");
  await Promise.all(running.map((n) => driver.pauseNode(n.name)));
  return running.map((n) => n.name);
}

/**
 * Resumes a paused cluster and waits, by watching the API, until it serves again: the API server
 * ready, every node Ready, CoreDNS available. Returns the nodes that were resumed.
 */
export async function unpauseCluster(driver: NodeDriver, name: string, signal?: AbortSignal): Promise<string[]> {
  const nodes = await driver.listNodes(name);
  if (!nodes.length) throw new UserError(`there is no cluster "${name}"`, "`kubeyard profile list` shows the clusters there are.");
  const paused = nodes.filter((n) => n.state === "paused");
  // Control planes first: the kubelets' clients then find an API server that answers.
  for (const role of ["load-balancer", "control-plane", "worker"]) {
    await Promise.all(paused.filter((n) => n.role === role).map((n) => driver.unpauseNode(n.name)));
  }
  const state = await readState(name);
  if (state && paused.length) {
    const kc = adminClient(state, await loadPki(pkiDir(name)));
    await waitApiServer(kc, signal);
    await waitNodesReady(
      kc,
      state.nodes.map((n) => n.name),
      signal,
    );
    await waitForDeploymentAvailable(kc, "kube-system", "coredns", { timeoutMs: 300_000, signal });
  }
  return paused.map((n) => n.name);
}
