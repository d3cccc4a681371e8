import type { Command } from "commander";
import type { ConfigFlags } from "../../src/config/index.js";
import { kubeconfigPath, readKubeconfig } from "../../src/kubeconfig/index.js";
import { clusterDeps } from "../../src/ops/deps.js";
import { watchInterrupt } from "../../src/ops/interrupt.js";
import { dryRunStart, startCluster, startChecks, startConfig } from "../../src/ops/start.js";
import { printStatus } from "../ui/status.js";
import { stepRunner } from "../ui/tasks.js";
import { driverFor, globals, sourceOf } from "./common.js";
import { validateProfileName } from "../../src/config/profile-name.js";
import { UserError } from "../../src/util/errors.js";

export default async function start(program: Command, opts: Record<string, string | string[] | boolean | undefined>): Promise<void> {
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
    mounts: opts.mount as string[] | undefined,
  };
  if (opts.fromSnapshot) return startCopy(program, opts);
  const config = await startConfig(opts.config as string | undefined, flags);
  if (opts.dryRun) return void process.stdout.write(await dryRunStart(config));
  const kcPath = opts.kubeconfig === false ? null : kubeconfigPath();
  // A kubeconfig kubeyard could not update fails here, before anything is created.
  if (kcPath) await readKubeconfig(kcPath);
  const driver = await driverFor(program);
  for (const warning of await startChecks(driver, config)) process.stderr.write(`! ${warning}\n`);
  const interrupt = watchInterrupt(() => "stopping after the current step, then cleaning up (again to quit at once)");
  try {
    const deps = clusterDeps(driver, {
      source: sourceOf(opts as { source?: string; artifacts?: string }),
      kubeconfigPath: kcPath,
      signal: interrupt.signal,
      log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
    });
    const result = await startCluster(config, deps, {
      runner: stepRunner({ verbose: g.verbose, signal: interrupt.signal }),
      interrupt,
      warn: (text) => process.stderr.write(`${text}\n`),
    });
    if (result.kind === "running") {
      process.stdout.write(`cluster "${config.name}" is already running; nothing changed\n`);
      // Loaded here only: it brings the Kubernetes client, which a start loads once the API is up.
      const { clusterStatus } = await import("../../src/day2/status.js");
      printStatus(await clusterStatus(driver, config.name));
      return;
    }
    const where = kcPath ? `kubectl now uses context "${config.name}"` : "`kubeyard kubeconfig` prints its kubeconfig";
    process.stdout.write(`cluster "${config.name}" is ready (Kubernetes ${config.kubernetesVersion}); ${where}\n`);
  } finally {
    interrupt.dispose();
  }
}

/** Flags that shape a new cluster: a copy takes all of that from its snapshot. */
const SHAPING = [
  "config",
  "kubernetesVersion",
  "nodes",
  "controlPlanes",
  "apiserverPort",
  "apiserverAddress",
  "nodeImage",
  "addons",
  "mount",
  "dryRun",
];

async function startCopy(program: Command, opts: Record<string, string | string[] | boolean | undefined>): Promise<void> {
  const g = globals(program);
  const given = SHAPING.filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (given.length) {
    throw new UserError(
      `--from-snapshot takes the cluster's shape from the snapshot; leave out ${given.map((k) => `--${kebab(k)}`).join(", ")}`,
      "Start the copy with --from-snapshot NAME -p NEW alone.",
    );
  }
  const profile = validateProfileName(g.profile);
  const kcPath = opts.kubeconfig === false ? null : kubeconfigPath();
  if (kcPath) await readKubeconfig(kcPath);
  const driver = await driverFor(program, { profile: false });
  const interrupt = watchInterrupt(() => "stopping after the current step (again to quit at once)");
  try {
    const deps = clusterDeps(driver, {
      source: sourceOf(opts as { source?: string; artifacts?: string }),
      kubeconfigPath: kcPath,
      signal: interrupt.signal,
      log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
    });
    const { startFromSnapshot } = await import("../../src/ops/snapshot-copy.js");
    const m = await startFromSnapshot(String(opts.fromSnapshot), profile, deps, {
      runner: stepRunner({ verbose: g.verbose, signal: interrupt.signal }),
      interrupt,
      warn: (text) => process.stderr.write(`${text}\n`),
    });
    const where = kcPath ? `kubectl now uses context "${profile}"` : "`kubeyard kubeconfig` prints its kubeconfig";
    process.stdout.write(`cluster "${profile}" is ready with the state of snapshot "${m.name}" (of cluster "${m.profile}"); ${where}\n`);
  } finally {
    interrupt.dispose();
  }
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
