import type { Command } from "commander";
import { ADDABLE_ROLES, addNode } from "../../src/ops/node.js";
import { UserError } from "../../src/util/errors.js";
import { withClusterSession } from "./cluster-session.js";
import { driverFor, globals } from "./common.js";

export default async function nodeAdd(program: Command, opts: { role: string }): Promise<void> {
  const role = opts.role.trim();
  const known = ADDABLE_ROLES.find((r) => r === role);
  if (!known) {
    throw new UserError(`--role: "${opts.role}" is not a role a node can be added with.`, `Use one of: ${ADDABLE_ROLES.join(", ")}.`);
  }
  const g = globals(program);
  const session = {
    kubeconfigPath: null,
    onInterrupt: "stopping after the current step, then removing the new node (again to quit at once)",
  };
  const added = await withClusterSession(program, await driverFor(program), session, (deps, ui) => addNode(g.profile, known, deps, ui));
  process.stdout.write(`node ${added} joined cluster "${g.profile}" and is Ready\n`);
}
