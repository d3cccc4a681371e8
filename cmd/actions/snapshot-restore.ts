import type { Command } from "commander";
import { kubeconfigPath, readKubeconfig } from "../../src/kubeconfig/index.js";
import { clusterDeps } from "../../src/ops/deps.js";
import { watchInterrupt } from "../../src/ops/interrupt.js";
import { findSnapshot, restoreSnapshot } from "../../src/ops/snapshot.js";
import { printWarning, stepRunner } from "../ui/tasks.js";
import { driverFor, globals } from "./common.js";

export default async function snapshotRestore(program: Command, name: string, opts: { kubeconfig: boolean }): Promise<void> {
  const g = globals(program);
  const { profile } = await findSnapshot(name);
  const kcPath = opts.kubeconfig === false ? null : kubeconfigPath();
  // A kubeconfig kubeyard could not update fails here, before anything changes.
  if (kcPath) await readKubeconfig(kcPath);
  const driver = await driverFor(program, { profile });
  const interrupt = watchInterrupt(() => "stopping after the current step (again to quit at once)");
  try {
    const deps = clusterDeps(driver, {
      source: "auto",
      kubeconfigPath: kcPath,
      signal: interrupt.signal,
      log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
    });
    const { recreated } = await restoreSnapshot(name, deps, {
      runner: stepRunner({ verbose: g.verbose, signal: interrupt.signal }),
      interrupt,
      warn: printWarning,
    });
    process.stdout.write(`cluster "${profile}" is back to snapshot "${name}"${recreated ? " (made again)" : ""}\n`);
  } finally {
    interrupt.dispose();
  }
}
