import type { Command } from "commander";
import { pauseProfile } from "../../src/ops/pause.js";
import { engineDriver, globals } from "./common.js";

export default async function pause(program: Command): Promise<void> {
  const profile = globals(program).profile;
  const paused = await pauseProfile(await engineDriver(program), profile);
  process.stdout.write(`${paused.length ? `paused ${paused.join(", ")}` : `cluster "${profile}" is paused already`}\n`);
}
