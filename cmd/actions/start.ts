import type { Command } from "commander";
import type { ConfigFlags } from "../../src/config/index.js";
import { validateProfileName } from "../../src/config/profile-name.js";
import { kubeconfigPath, readKubeconfig } from "../../src/kubeconfig/index.js";
import { dryRunStart, startCluster, startChecks, startConfig } from "../../src/ops/start.js";
import { UserError } from "../../src/util/errors.js";
import { printStatus } from "../ui/status.js";
import { withClusterSession } from "./cluster-session.js";
import { driverFor, globals, sourceOf } from "./common.js";

type StartOptions = Record<string, string | string[] | boolean | undefined>;

export default async function start(program: Command, opts: StartOptions): Promise<void> {
  if (opts.fromSnapshot) return startCopy(program, opts);
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
    containerRuntime: opts.containerRuntime as string | undefined,
    addons: opts.addons as string | undefined,
    mounts: opts.mount as string[] | undefined,
  };
  const config = await startConfig(opts.config as string | undefined, flags);
  if (opts.dryRun) return void process.stdout.write(await dryRunStart(config));
  const kcPath = await usableKubeconfig(opts);
  const driver = await driverFor(program);
  for (const warning of await startChecks(driver, config)) process.stderr.write(`! ${warning}\n`);
  const session = {
    source: sourceOf(opts as { source?: string; artifacts?: string }),
    kubeconfigPath: kcPath,
    onInterrupt: "stopping after the current step, then cleaning up (again to quit at once)",
  };
  const result = await withClusterSession(program, driver, session, (deps, ui) => startCluster(config, deps, ui));
  if (result.kind === "running") {
    process.stdout.write(`cluster "${config.name}" is already running; nothing changed\n`);
    // Loaded here only: it brings the Kubernetes client, which a start loads once the API is up.
    const { clusterStatus } = await import("../../src/day2/status.js");
    printStatus(await clusterStatus(driver, config.name));
    return;
  }
  process.stdout.write(`cluster "${config.name}" is ready (Kubernetes ${config.kubernetesVersion}); ${whereToFind(config.name, kcPath)}\n`);
}

/** The kubeconfig start adds the context to (null with --no-kubeconfig); one kubeyard could not update fails here, before anything is made. */
async function usableKubeconfig(opts: StartOptions): Promise<string | null> {
  const kcPath = opts.kubeconfig === false ? null : kubeconfigPath();
  if (kcPath) await readKubeconfig(kcPath);
  return kcPath;
}

function whereToFind(profile: string, kcPath: string | null): string {
  return kcPath ? `kubectl now uses context "${profile}"` : "`kubeyard kubeconfig` prints its kubeconfig";
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
  "containerRuntime",
  "addons",
  "mount",
  "dryRun",
];

async function startCopy(program: Command, opts: StartOptions): Promise<void> {
  const given = SHAPING.filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (given.length) {
    throw new UserError(
      `--from-snapshot takes the cluster's shape from the snapshot; leave out ${given.map((k) => `--${kebab(k)}`).join(", ")}`,
      "Start the copy with --from-snapshot NAME -p NEW alone.",
    );
  }
  const profile = validateProfileName(globals(program).profile);
  const kcPath = await usableKubeconfig(opts);
  const session = {
    source: sourceOf(opts as { source?: string; artifacts?: string }),
    kubeconfigPath: kcPath,
    onInterrupt: "stopping after the current step (again to quit at once)",
  };
  const { startFromSnapshot } = await import("../../src/ops/snapshot-copy.js");
  const name = String(opts.fromSnapshot);
  const m = await withClusterSession(program, await driverFor(program, { profile: false }), session, (deps, ui) =>
    startFromSnapshot(name, profile, deps, ui),
  );
  process.stdout.write(
    `cluster "${profile}" is ready with the state of snapshot "${m.name}" (of cluster "${m.profile}"); ${whereToFind(profile, kcPath)}\n`,
  );
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
