import type { Command } from "commander";
import { unpauseProfile } from "../../src/ops/pause.js";
import { engineDriver, globals } from "./common.js";

export default async function unpause(program: Command): Promise<void> {
  const profile = globals(program).profile;
  const resumed = await unpauseProfile(await engineDriver(program), profile);
  process.stdout.write(`${resumed.length ? `resumed ${resumed.join(", ")}` : `cluster "${profile}" is not paused`}\n`);
}
