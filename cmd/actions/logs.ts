import type { Command } from "commander";
import { collectLogs, defaultLogsOutput } from "../../src/day2/logs.js";
import { engineDriver, globals } from "./common.js";

export default async function logs(program: Command, opts: { output?: string }): Promise<void> {
  const profile = globals(program).profile;
  const output = opts.output ?? defaultLogsOutput(profile);
  const r = await collectLogs(await engineDriver(program), profile, output, { kubeyardVersion: program.version() });
  for (const p of r.problems) process.stderr.write(`! ${p}\n`);
  process.stdout.write(`wrote ${r.path} (${r.nodes.length} node${r.nodes.length === 1 ? "" : "s"}: ${r.nodes.join(", ")})\n`);
}
