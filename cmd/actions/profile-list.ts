import type { Command } from "commander";
import { listProfileRows } from "../../src/ops/profiles.js";
import { printJson, printTable, type OutputFormat } from "../ui/print.js";
import { driverFor } from "./common.js";

export default async function profileList(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const rows = await listProfileRows(await driverFor(program, { profile: false }));
  if (opts.output === "json") return printJson(rows);
  if (!rows.length) return void process.stdout.write("no clusters; `kubeyard start` makes one\n");
  printTable(
    ["PROFILE", "NODES", "STATE", "VERSION"],
    rows.map((r) => [r.profile, String(r.nodes), r.state, r.kubernetesVersion]),
  );
}
