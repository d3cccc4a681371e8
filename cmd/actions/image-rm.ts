import type { Command } from "commander";
import { removeNodeImages } from "../../src/node/images.js";
import { engineDriver, globals } from "./common.js";

export default async function imageRm(program: Command, refs: string[]): Promise<void> {
  const driver = await engineDriver(program);
  const result = await removeNodeImages(driver, globals(program).profile, refs);
  for (const r of result) if (r.removed.length) process.stdout.write(`removed ${r.removed.join(", ")} from ${r.node}\n`);
}
