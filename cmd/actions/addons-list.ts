import type { Command } from "commander";
import { addonRows } from "../../src/addons/manager.js";
import { printJson, printTable, type OutputFormat } from "../ui/print.js";
import { globals } from "./common.js";

export default async function addonsList(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const rows = await addonRows(globals(program).profile);
  if (opts.output === "json") return printJson(rows);
  printTable(
    ["ADDON", "ENABLED", "DESCRIPTION"],
    rows.map((r) => [r.name, r.enabled ? "yes" : "no", r.description]),
  );
}
