import type { Command } from "commander";
import { clusterKubeconfigText } from "../../src/cluster/kubeconfig-entry.js";
import { readState } from "../../src/cluster/state.js";
import { UserError } from "../../src/util/errors.js";
import { globals } from "./common.js";

export default async function kubeconfig(program: Command): Promise<void> {
  const name = globals(program).profile;
  const state = await readState(name);
  if (!state) throw new UserError(`there is no cluster "${name}"`);
  process.stdout.write(await clusterKubeconfigText(state));
}
