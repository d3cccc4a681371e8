import path from "node:path";
import { HAPROXY_CONFIG, haproxyConfig, POD_NETWORK_HOOK, POD_NETWORK_HOOK_NEXT } from "../components/index.js";
import type { ClusterConfig } from "../config/index.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import { podNetworkFile } from "../cluster/node-payload.js";
import { componentContext, type LoadBalancer, type PlacedNode } from "../cluster/topology.js";

/**
 * Puts a newly written pod network hook in place and runs it on running nodes now (the entrypoint
 * runs it at every start).
 */
export async function applyPodNetwork(driver: NodeDriver, nodes: string[]): Promise<void> {
  const hooks = path.posix.dirname(POD_NETWORK_HOOK);
  const next = POD_NETWORK_HOOK_NEXT;
  const script = `if [ -e ${next} ]; then mkdir -p ${hooks} && mv -f ${next} ${POD_NETWORK_HOOK}; fi; exec ${POD_NETWORK_HOOK}`;
  await Promise.all(
    nodes.map(async (name) => {
      const r = await driver.exec(name, ["bash", "-c", script]);
      if (r.exitCode !== 0) throw new UserError(`could not set up the pod network on ${name}: ${(r.stderr || r.stdout).trim()}`);
    }),
  );
}

/** Rewrites every running node's pod network hook for the cluster's current nodes and applies it. */
export async function refreshPodNetwork(
  driver: NodeDriver,
  config: ClusterConfig,
  placed: PlacedNode[],
  running: ReadonlySet<string>,
  lb?: LoadBalancer,
): Promise<void> {
  const targets = placed.filter((p) => running.has(p.config.name));
  await Promise.all(targets.map((p) => driver.copyFiles(p.config.name, [podNetworkFile(componentContext(config, placed, p, lb))])));
  await applyPodNetwork(
    driver,
    targets.map((p) => p.config.name),
  );
}

/**
 * Gives the load balancer the current control planes. The file is renamed into place, so the
 * entrypoint that waits for it never reads half of it; a running HAProxy is told to reload.
 */
export async function writeLoadBalancerConfig(driver: NodeDriver, lb: LoadBalancer, placed: PlacedNode[]): Promise<void> {
  const members = placed.filter((p) => p.config.role === "control-plane").map((p) => ({ name: p.config.name, ip: p.ip }));
  const next = `${HAPROXY_CONFIG}.next`;
  await driver.copyFiles(lb.name, [{ path: next, content: haproxyConfig(members), mode: 0o644 }]);
  const script = `mv -f ${next} ${HAPROXY_CONFIG}; case "$(readlink /proc/1/exe)" in *haproxy*) kill -USR2 1;; esac`;
  const r = await driver.exec(lb.name, ["bash", "-c", script]);
  if (r.exitCode !== 0) throw new UserError(`could not configure the load balancer ${lb.name}: ${(r.stderr || r.stdout).trim()}`);
}
