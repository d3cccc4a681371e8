import type { Command } from "commander";
import { listNodeImages } from "../../src/node/images.js";
import { printJson, printTable, type OutputFormat } from "../ui/print.js";
import { engineDriver, globals } from "./common.js";

export default async function imageLs(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const driver = await engineDriver(program);
  const perNode = await listNodeImages(driver, globals(program).profile);
  if (opts.output === "json") return printJson(perNode);
  printTable(
    ["NODE", "IMAGE", "DIGEST", "SIZE"],
    perNode.flatMap((n) => n.images.map((i) => [n.node, i.ref, i.digest.slice(7, 19), i.size])),
  );
}
