import type { Command } from "commander";
import { kubeconfigPath } from "../../src/kubeconfig/index.js";
import { deleteProfile } from "../../src/ops/cluster.js";
import { profilesToDelete } from "../../src/ops/profiles.js";
import { confirm } from "../ui/prompt.js";
import { driverFor, globals } from "./common.js";

export default async function deleteClusters(program: Command, opts: { all: boolean; yes: boolean }): Promise<void> {
  const names = await profilesToDelete({ all: opts.all, profile: globals(program).profile });
  if (opts.all && !names.length) return void process.stdout.write("there are no kubeyard clusters\n");
  if (opts.all && !opts.yes) {
    const ok = await confirm(`Delete ${names.length} cluster(s): ${names.join(", ")}?`);
    if (!ok) return void process.stdout.write("nothing deleted\n");
  }
  for (const name of names) {
    // Each cluster in the engine it was made in.
    const r = await deleteProfile(await driverFor(program, { profile: name }), name, kubeconfigPath());
    process.stdout.write(`deleted cluster "${name}"${r.nodes.length ? ` (${r.nodes.join(", ")})` : ""}\n`);
  }
}
