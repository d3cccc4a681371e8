import type { Command } from "commander";
import { stopProfile } from "../../src/ops/cluster.js";
import { driverFor, globals } from "./common.js";

export default async function stop(program: Command): Promise<void> {
  const stopped = await stopProfile(await driverFor(program), globals(program).profile);
  process.stdout.write(`stopped ${stopped.join(", ")}\n`);
}
