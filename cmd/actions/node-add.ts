import type { Command } from "commander";
import { clusterDeps } from "../../src/ops/deps.js";
import { watchInterrupt } from "../../src/ops/interrupt.js";
import { ADDABLE_ROLES, addNode } from "../../src/ops/node.js";
import { UserError } from "../../src/util/errors.js";
import { stepRunner } from "../ui/tasks.js";
import { driverFor, globals } from "./common.js";

export default async function nodeAdd(program: Command, opts: { role: string }): Promise<void> {
  const role = opts.role.trim();
  const known = ADDABLE_ROLES.find((r) => r === role);
  if (!known) {
    throw new UserError(`--role: "${opts.role}" is not a role a node can be added with.`, `Use one of: ${ADDABLE_ROLES.join(", ")}.`);
  }
  const g = globals(program);
  const driver = await driverFor(program);
  const interrupt = watchInterrupt(() => "stopping after the current step, then removing the new node (again to quit at once)");
  try {
    const deps = clusterDeps(driver, {
      source: "auto",
      kubeconfigPath: null,
      signal: interrupt.signal,
      log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
    });
    const added = await addNode(g.profile, known, deps, {
      runner: stepRunner({ verbose: g.verbose, signal: interrupt.signal }),
      interrupt,
      warn: (text) => process.stderr.write(`${text}\n`),
    });
    process.stdout.write(`node ${added} joined cluster "${g.profile}" and is Ready\n`);
  } finally {
    interrupt.dispose();
  }
}
