import type { Command } from "commander";
// flags.js, not config/index.js: the flag names are needed to define `start`, the validator (ajv, yaml) only when it runs.
import { FLAG_NAMES } from "../../src/config/flags.js";
import type { NodeDriver } from "../../src/drivers/types.js";
import { UserError } from "../../src/util/errors.js";
import { parseOutput, printJson, printTable } from "../ui/print.js";
import { confirm } from "../ui/confirm.js";
import { addSourceOptions, driverFor, globals } from "./common.js";

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
    .option("--no-kubeconfig", "do not add a context to your kubeconfig")
    .option("--dry-run", "print what start would do, step by step, and change nothing"))
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runStart } = await import("./start.js");
      await runStart(program, opts);
    });

  program
    .command("stop")
    .description("stop the cluster's nodes; `start` brings it back with its workloads and data")
    .action(async () => {
      const { stopCluster } = await import("../../src/day2/stop.js");
      const name = globals(program).profile;
      const driver = await driverFor(program);
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
      const { deleteProfile } = await import("../../src/ops/cluster.js");
      const { listProfiles } = await import("../../src/cluster/state.js");
      const { kubeconfigPath } = await import("../../src/kubeconfig/index.js");
      const driver = await driverFor(program);
      // --all means this user's clusters (their state dir), never every kubeyard container the
      // engine holds: other users and other KUBEYARD_HOMEs share the engine.
      const names = opts.all ? await listProfiles() : [globals(program).profile];
      if (opts.all && !names.length) return void process.stdout.write("there are no kubeyard clusters\n");
      if (opts.all && !opts.yes) {
        const ok = await confirm(`Delete ${names.length} cluster(s): ${names.join(", ")}?`);
        if (!ok) return void process.stdout.write("nothing deleted\n");
      }
      for (const name of names) {
        const r = await deleteProfile(driver, name, kubeconfigPath());
        process.stdout.write(`deleted cluster "${name}"${r.nodes.length ? ` (${r.nodes.join(", ")})` : ""}\n`);
      }
    });

  program
    .command("status")
    .description("per node: container, kubelet, API server and etcd health; exits non-zero unless the cluster runs")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const { clusterStatus } = await import("../../src/day2/status.js");
      const { printStatus } = await import("../ui/status.js");
      const driver = await driverFor(program);
      const s = await clusterStatus(driver, globals(program).profile);
      if (opts.output === "json") printJson(s);
      else printStatus(s);
      if (!s.running) process.exitCode = s.exists ? 2 : 3;
    });

  program
    .command("kubeconfig")
    .description("print the cluster's kubeconfig (admin credentials)")
    .action(async () => {
      const { clusterKubeconfigText } = await import("../../src/cluster/kubeconfig-entry.js");
      const { readState } = await import("../../src/cluster/state.js");
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
      const { readState } = await import("../../src/cluster/state.js");
      const driver = await driverFor(program);
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

async function allProfiles(driver: NodeDriver): Promise<string[]> {
  const { listProfiles } = await import("../../src/cluster/state.js");
  const fromState = await listProfiles();
  const fromEngine = (await driver.listNodes()).map((n) => n.cluster);
  return [...new Set([...fromState, ...fromEngine])].sort();
}
