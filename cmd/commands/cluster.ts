import { setMaxListeners } from "node:events";
import type { Command } from "commander";
import { listAddons } from "../../src/addons/index.js";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { buildNodeImage } from "../../src/artifacts/node-image.js";
import { ensureLoadBalancerImage } from "../../src/artifacts/load-balancer-image.js";
import { enableClusterAddon } from "../../src/cluster/addon-manager.js";
import { deleteCluster } from "../../src/cluster/delete.js";
import { failureLogs } from "../../src/cluster/failure-logs.js";
import { inotifyWarning } from "../../src/cluster/host-limits.js";
import { nodeImageFor } from "../../src/cluster/node-image.js";
import { planStart } from "../../src/cluster/start.js";
import { clusterStatus, type ClusterStatus } from "../../src/cluster/status.js";
import { describeAddonPorts } from "../../src/cluster/addon-ports.js";
import { listProfiles, lockProfile, readState, withProfileLock } from "../../src/cluster/state.js";
import { stopCluster } from "../../src/cluster/stop.js";
import { clusterKubeconfigText } from "../../src/cluster/kubeconfig.js";
import { FLAG_NAMES, resolveConfig, type ConfigFlags } from "../../src/config/index.js";
import type { DockerDriver } from "../../src/drivers/docker/driver.js";
import { inspectImage } from "../../src/drivers/docker/images.js";
import { kubeconfigPath, readKubeconfig } from "../../src/kubeconfig/index.js";
import { UserError } from "../../src/util/errors.js";
import { parseOutput, printJson, printTable } from "../ui/print.js";
import { confirm } from "../ui/confirm.js";
import { runSteps } from "../ui/tasks.js";
import { addSourceOptions, driverFor, globals, sourceOf } from "./common.js";

export function registerCluster(program: Command): void {
  addSourceOptions(program
    .command("start")
    .description("create and start a cluster, or start a stopped one (a running one is left as it is)")
    .option("--config <file>", "cluster config file (YAML, kubeyard.dev/v1alpha1 Cluster)")
    .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
    .option(`${FLAG_NAMES.nodes} <n>`, "number of nodes, control planes included")
    .option(`${FLAG_NAMES.controlPlanes} <n>`, "how many of the nodes are control planes")
    .option(`${FLAG_NAMES.apiServerPort} <port>`, "host port of the API server (default: a free port)")
    .option(`${FLAG_NAMES.apiServerAddress} <address>`, "host address the API server is published on", undefined)
    .option("--node-image <image>", "run nodes from this image instead of kubeyard's own")
    .option("--addons <names>", "addons to enable, comma-separated")
    .option("--no-kubeconfig", "do not add a context to your kubeconfig"))
    .action(async (opts: Record<string, string | boolean | undefined>) => {
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
      const driver = driverFor(program);
      await driver.preflight();
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
            await enableClusterAddon(config.name, name, { driver, docker: driver.docker, source: sourceOf(opts as never), onStep: report });
          },
          ensureImage: async (report) => {
            const image = nodeImageFor(config);
            if (config.nodeImage) {
              if (!(await inspectImage(driver.docker, image))) throw new UserError(`node image ${image} does not exist`);
              return image;
            }
            const cache = new ArtifactCache();
            const r = await buildNodeImage(driver.docker, config.versions, {
              cache,
              source: sourceOf(opts as { source?: string; artifacts?: string }),
              log: cache.logPath("node-image", config.versions.kubernetes, "source"),
              onStep: report,
            });
            return r.tag;
          },
          ensureLoadBalancerImage: (report) => ensureLoadBalancerImage(driver.docker, { cache: new ArtifactCache(), onStep: report }),
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
    });

  program
    .command("stop")
    .description("stop the cluster's nodes; `start` brings it back with its workloads and data")
    .action(async () => {
      const name = globals(program).profile;
      const driver = driverFor(program);
      await driver.preflight();
      const stopped = await stopCluster(driver, name);
      if (!stopped.length) throw new UserError(`there is no cluster "${name}"`, "`kubeyard profile list` shows the clusters there are.");
      process.stdout.write(`stopped ${stopped.join(", ")}\n`);
    });

  program
    .command("delete")
    .description("delete the cluster: nodes, network, volumes, and the kubeconfig entries kubeyard made")
    .option("--all", "delete every cluster of this kubeyard state dir ($KUBEYARD_HOME)", false)
    .option("-y, --yes", "do not ask before deleting with --all", false)
    .action(async (opts: { all: boolean; yes: boolean }) => {
      const driver = driverFor(program);
      await driver.preflight();
      // --all means this user's clusters (their state dir), never every kubeyard container the
      // engine holds: other users and other KUBEYARD_HOMEs share the engine.
      const names = opts.all ? await listProfiles() : [globals(program).profile];
      if (opts.all && !names.length) return void process.stdout.write("there are no kubeyard clusters\n");
      if (opts.all && !opts.yes) {
        const ok = await confirm(`Delete ${names.length} cluster(s): ${names.join(", ")}?`);
        if (!ok) return void process.stdout.write("nothing deleted\n");
      }
      for (const name of names) {
        const r = await withProfileLock(name, () => deleteCluster(driver, name, kubeconfigPath()));
        process.stdout.write(`deleted cluster "${name}"${r.nodes.length ? ` (${r.nodes.join(", ")})` : ""}\n`);
      }
    });

  program
    .command("status")
    .description("per node: container, kubelet, API server and etcd health; exits non-zero unless the cluster runs")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const driver = driverFor(program);
      await driver.preflight();
      const s = await clusterStatus(driver, globals(program).profile);
      if (opts.output === "json") printJson(s);
      else printStatus(s);
      if (!s.running) process.exitCode = s.exists ? 2 : 3;
    });

  program
    .command("kubeconfig")
    .description("print the cluster's kubeconfig (admin credentials)")
    .action(async () => {
      const name = globals(program).profile;
      const state = await readState(name);
      if (!state) throw new UserError(`there is no cluster "${name}"`);
      process.stdout.write(await clusterKubeconfigText(state));
    });

  const profile = program.command("profile").description("the clusters (profiles) kubeyard manages");
  profile
    .command("list")
    .description("list every cluster with its state")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const driver = driverFor(program);
      await driver.preflight();
      const names = await allProfiles(driver);
      const rows = await Promise.all(
        names.map(async (n) => {
          const nodes = await driver.listNodes(n);
          const state = await readState(n);
          return {
            profile: n,
            nodes: nodes.length,
            state: nodes.length ? (nodes.every((x) => x.state === "running") ? "running" : nodes.map((x) => x.state).join(",")) : "missing",
            kubernetesVersion: state?.config.kubernetesVersion ?? "",
          };
        }),
      );
      if (opts.output === "json") return printJson(rows);
      if (!rows.length) return void process.stdout.write("no clusters; `kubeyard start` makes one\n");
      printTable(["PROFILE", "NODES", "STATE", "VERSION"], rows.map((r) => [r.profile, String(r.nodes), r.state, r.kubernetesVersion]));
    });
}

/** Removes what a failed or interrupted create left; when that fails too, says so and what to run. */
async function removeHalfMade(driver: DockerDriver, name: string, kcPath: string | null): Promise<void> {
  try {
    await deleteCluster(driver, name, kcPath);
  } catch (err) {
    process.stderr.write(
      `kubeyard: could not remove the half-made cluster "${name}": ${(err as Error).message ?? String(err)}\n` +
        `Run \`kubeyard delete -p ${name}\` to remove what is left.\n`,
    );
  }
}

async function allProfiles(driver: DockerDriver): Promise<string[]> {
  const fromState = await listProfiles();
  const fromEngine = (await driver.listNodes()).map((n) => n.cluster);
  return [...new Set([...fromState, ...fromEngine])].sort();
}

function printStatus(s: ClusterStatus): void {
  if (!s.exists) return void process.stdout.write(`there is no cluster "${s.profile}"\n`);
  process.stdout.write(
    `cluster "${s.profile}": ${s.running ? "running" : s.paused ? "paused" : "not running"}${s.kubernetesVersion ? `, Kubernetes ${s.kubernetesVersion}` : ""}${s.server ? `, API ${s.server}` : ""}\n`,
  );
  printTable(
    ["NODE", "ROLE", "CONTAINER", "KUBELET", "APISERVER", "ETCD"],
    s.nodes.map((n) => [n.name, n.role, n.container, n.kubelet, n.apiserver, n.etcd]),
  );
  if (s.addons.length) process.stdout.write(`addons: ${s.addons.join(", ")}\n`);
  if (s.addonPorts) process.stdout.write(`addon ports: ${describeAddonPorts(s.addonPorts)}\n`);
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
