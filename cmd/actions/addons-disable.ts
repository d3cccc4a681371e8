import type { Command } from "commander";
import { disableAddonOf } from "../../src/ops/addons.js";
import { engineDriver, globals } from "./common.js";

export default async function addonsDisable(program: Command, name: string): Promise<void> {
  const { kept } = await disableAddonOf(globals(program).profile, name, await engineDriver(program));
  process.stdout.write(`addon ${name} is disabled\n`);
  for (const k of kept) {
    process.stdout.write(`kept ${k.ref.kind} ${k.ref.name}: ${k.usedBy} object(s) of it remain that the addon did not create\n`);
  }
}
