import { setMaxListeners } from "node:events";
import type { Command } from "commander";
import { listAddons } from "../../src/addons/index.js";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { ensureLoadBalancerImage } from "../../src/artifacts/load-balancer-image.js";
import { buildNodeImage } from "../../src/artifacts/node-image.js";
import { enableClusterAddon } from "../../src/cluster/addon-manager.js";
import { deleteCluster } from "../../src/cluster/delete.js";
import { failureLogs } from "../../src/cluster/failure-logs.js";
import { inotifyWarning } from "../../src/cluster/host-limits.js";
import { nodeImageFor } from "../../src/cluster/node-image.js";
import { planStart } from "../../src/cluster/start.js";
import { lockProfile } from "../../src/cluster/state.js";
import { clusterStatus } from "../../src/cluster/status.js";
import { resolveConfig, type ConfigFlags } from "../../src/config/index.js";
import type { NodeDriver } from "../../src/drivers/types.js";
import { kubeconfigPath, readKubeconfig } from "../../src/kubeconfig/index.js";
import { UserError } from "../../src/util/errors.js";
import { printStatus } from "../ui/status.js";
import { runSteps } from "../ui/tasks.js";
import { driverFor, globals, sourceOf } from "./common.js";

/**
 * What `kubeyard start` runs. A module of its own, imported by the action, because starting a
 * cluster takes most of src/ and every package kubeyard has; no other command should load that.
 */
export async function runStart(program: Command, opts: Record<string, string | boolean | undefined>): Promise<void> {
  const g = globals(program);
  const flags: ConfigFlags = {
    profile: program.getOptionValueSource("profile") === "default" ? undefined : g.profile,
    kubernetesVersion: opts.kubernetesVersion as string | undefined,
    nodes: opts.nodes as string | undefined,
    controlPlanes: opts.controlPlanes as string | undefined,
    // commander camel-cases "--apiserver-port" as "apiserverPort" (lower-case s).
    apiServerPort: opts.apiserverPort as string | undefined,
    apiServerAddress: opts.apiserverAddress as string | undefined,
    nodeImage: opts.nodeImage as string | undefined,
    addons: opts.addons as string | undefined,
  };
  // Everything the user gave is checked before anything is created.
  const knownAddons = (await listAddons()).map((a) => a.name);
  const config = await resolveConfig({ file: opts.config as string | undefined, flags, knownAddons });
  const kcPath = opts.kubeconfig === false ? null : kubeconfigPath();
  if (kcPath) await readKubeconfig(kcPath);
  const driver = await driverFor(program);
  const warning = await inotifyWarning((await driver.listNodes()).filter((n) => n.state === "running").length, config.nodes.length);
  if (warning) process.stderr.write(`! ${warning}\n`);
  const release = await lockProfile(config.name);
  const interrupt = watchInterrupt();
  try {
    const plan = await planStart(config, {
      driver,
      signal: interrupt.signal,
      kubeconfigPath: kcPath,
      log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
      enableAddon: async (name, report) => {
        await enableClusterAddon(config.name, name, { driver, source: sourceOf(opts as never), onStep: report });
      },
      ensureImage: async (report) => {
        const image = nodeImageFor(config);
        if (config.nodeImage) {
          if (!(await driver.images.inspect(image))) throw new UserError(`node image ${image} does not exist`);
          return image;
        }
        const cache = new ArtifactCache();
        const r = await buildNodeImage(driver.images, config.versions, {
          cache,
          source: sourceOf(opts as { source?: string; artifacts?: string }),
          log: cache.logPath("node-image", config.versions.kubernetes, "source"),
          onStep: report,
        });
        return r.tag;
      },
      ensureLoadBalancerImage: (report) => ensureLoadBalancerImage(driver.images, { cache: new ArtifactCache(), onStep: report }),
    });
    if (plan.mode === "running") {
      process.stdout.write(`cluster "${config.name}" is already running; nothing changed\n`);
      printStatus(await clusterStatus(driver, config.name));
      return;
    }
    try {
      await runSteps(plan.steps.map((s) => ({ title: s.title, run: (step) => s.run(step) })), {
        verbose: g.verbose,
        signal: interrupt.signal,
      });
    } catch (err) {
      // Reached only once the step in flight has settled, so nothing is created after the clean-up.
      if (plan.mode === "create") {
        if (!interrupt.fired()) {
          const logs = await failureLogs(driver, config.name);
          if (logs) process.stderr.write(`the nodes' last log lines:\n${logs}\n`);
          process.stderr.write(`start failed; removing the half-made cluster "${config.name}"\n`);
        }
        await removeHalfMade(driver, config.name, kcPath);
      }
      if (interrupt.fired()) {
        throw new UserError(
          plan.mode === "create" ? `interrupted; the half-made cluster "${config.name}" was removed` : "interrupted",
          undefined,
          130,
        );
      }
      throw err;
    } finally {
      interrupt.dispose();
    }
    const where = kcPath ? `kubectl now uses context "${config.name}"` : "`kubeyard kubeconfig` prints its kubeconfig";
    process.stdout.write(`cluster "${config.name}" is ready (Kubernetes ${config.kubernetesVersion}); ${where}\n`);
  } finally {
    interrupt.dispose();
    await release();
  }
}

/** Removes what a failed or interrupted create left; when that fails too, says so and what to run. */
async function removeHalfMade(driver: NodeDriver, name: string, kcPath: string | null): Promise<void> {
  try {
    await deleteCluster(driver, name, kcPath);
  } catch (err) {
    process.stderr.write(
      `kubeyard: could not remove the half-made cluster "${name}": ${(err as Error).message ?? String(err)}\n` +
        `Run \`kubeyard delete -p ${name}\` to remove what is left.\n`,
    );
  }
}

/**
 * The first SIGINT/SIGTERM aborts: no further step starts and waits give up, then the caller cleans
 * up. A second signal exits at once.
 */
function watchInterrupt() {
  const controller = new AbortController();
  // Every wait of every node listens to this one signal at once (watches, retries, sleeps).
  setMaxListeners(0, controller.signal);
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: stopping after the current step, then cleaning up (again to quit at once)\n`);
    controller.abort(new UserError(`interrupted by ${sig}`, undefined, 130));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    fired: () => controller.signal.aborted,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
