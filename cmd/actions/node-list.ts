import type { Command } from "commander";
import { listClusterNodes } from "../../src/day2/nodes.js";
import { describeRuntime } from "../../src/node/runtime/version.js";
import { printJson, printTable, type OutputFormat } from "../ui/print.js";
import { driverFor, globals } from "./common.js";

export default async function nodeList(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const driver = await driverFor(program);
  const rows = await listClusterNodes(driver, globals(program).profile);
  if (opts.output === "json") return printJson(rows);
  printTable(
    ["NAME", "ROLE", "CONTAINER", "RUNTIME", "IP", "POD CIDR"],
    rows.map((r) => [r.name, r.role, r.container, r.runtime ? describeRuntime(r.runtime) : "n/a", r.ip, r.podCIDR]),
  );
}
