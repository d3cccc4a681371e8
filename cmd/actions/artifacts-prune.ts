import type { Command } from "commander";
import { pruneCachedArtifacts } from "../../src/ops/artifacts.js";
import { humanBytes, printJson, type OutputFormat } from "../ui/print.js";
import { globals } from "./common.js";

export default async function artifactsPrune(program: Command, opts: { all: boolean; output: OutputFormat }): Promise<void> {
  const removed = await pruneCachedArtifacts({ all: opts.all, driver: globals(program).driver });
  if (opts.output === "json") return printJson(removed);
  if (!removed.length) return void process.stdout.write("nothing to prune\n");
  for (const r of removed) process.stdout.write(`removed ${r.name} ${r.version} (${r.source}, ${humanBytes(r.bytes)})\n`);
}
