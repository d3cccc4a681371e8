import type { Command } from "commander";
import { copyWithNode } from "../../src/ops/node.js";
import { engineDriver, globals } from "./common.js";

export default async function cp(program: Command, src: string, dst: string): Promise<void> {
  await copyWithNode(await engineDriver(program), globals(program).profile, src, dst);
}
