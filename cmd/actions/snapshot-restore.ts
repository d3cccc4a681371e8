import type { Command } from "commander";
import { kubeconfigPath, readKubeconfig } from "../../src/kubeconfig/index.js";
import { findSnapshot, restoreSnapshot } from "../../src/ops/snapshot.js";
import { withClusterSession } from "./cluster-session.js";
import { driverFor } from "./common.js";

export default async function snapshotRestore(program: Command, name: string, opts: { kubeconfig: boolean }): Promise<void> {
  const { profile } = await findSnapshot(name);
  const kcPath = opts.kubeconfig === false ? null : kubeconfigPath();
  // A kubeconfig kubeyard could not update fails here, before anything changes.
  if (kcPath) await readKubeconfig(kcPath);
  const driver = await driverFor(program, { profile });
  const session = { kubeconfigPath: kcPath, onInterrupt: "stopping after the current step (again to quit at once)" };
  const { recreated } = await withClusterSession(program, driver, session, (deps, ui) => restoreSnapshot(name, deps, ui));
  process.stdout.write(`cluster "${profile}" is back to snapshot "${name}"${recreated ? " (made again)" : ""}\n`);
}
