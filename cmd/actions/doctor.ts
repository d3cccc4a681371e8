import type { Command } from "commander";
import { createDriver } from "../../src/drivers/index.js";
import { doctor } from "../../src/ops/doctor.js";
import { printJson, printTable, type OutputFormat } from "../ui/print.js";
import { globals } from "./common.js";

export default async function doctorAction(program: Command, opts: { output: OutputFormat }): Promise<void> {
  // No preflight: an engine that does not answer is one of the findings, not an error.
  const report = await doctor(await createDriver(globals(program).driver));
  if (opts.output === "json") printJson(report);
  else {
    printTable(
      ["CHECK", "RESULT", "DETAIL/FIX"],
      // A fix goes on a line of its own under its check's detail.
      report.checks.flatMap((c) => [[c.check, c.result, c.detail], ...(c.fix ? [["", "", `fix: ${c.fix}`]] : [])]),
    );
  }
  if (!report.ok) process.exitCode = 1;
}
