import type { Command } from "commander";
import { deleteNode } from "../../src/ops/node.js";
import { runSteps } from "../ui/tasks.js";
import { driverFor, globals } from "./common.js";

export default async function nodeDelete(program: Command, name: string): Promise<void> {
  const g = globals(program);
  const driver = await driverFor(program);
  await runSteps([{ title: `drain and remove ${name}`, run: async () => deleteNode(g.profile, name, { driver }) }], { verbose: g.verbose });
  process.stdout.write(`node ${name} was drained and removed from cluster "${g.profile}"\n`);
}
