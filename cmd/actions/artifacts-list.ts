import type { Command } from "commander";
import { listArtifacts } from "../../src/ops/artifacts.js";
import { humanBytes, printJson, printTable, type OutputFormat } from "../ui/print.js";
import { globals } from "./common.js";

export default async function artifactsList(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const rows = await listArtifacts(globals(program).driver);
  if (opts.output === "json") return printJson(rows);
  if (!rows.length) return void process.stdout.write("nothing cached yet; `kubeyard artifacts fetch` fills the cache\n");
  printTable(
    ["KIND", "NAME", "VERSION", "SOURCE", "SIZE"],
    rows.map((r) => [r.kind, r.name, r.version, r.source, humanBytes(r.bytes)]),
  );
}
