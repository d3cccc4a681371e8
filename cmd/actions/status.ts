import type { Command } from "commander";
import { clusterStatus } from "../../src/day2/status.js";
import { printJson, type OutputFormat } from "../ui/print.js";
import { printStatus } from "../ui/status.js";
import { driverFor, globals } from "./common.js";

export default async function status(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const driver = await driverFor(program);
  const s = await clusterStatus(driver, globals(program).profile);
  if (opts.output === "json") printJson(s);
  else printStatus(s);
  if (!s.running) process.exitCode = s.exists ? 2 : 3;
}
