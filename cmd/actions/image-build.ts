import type { Command } from "commander";
import { buildAndLoad } from "../../src/day2/image-build.js";
import { humanBytes } from "../ui/print.js";
import { engineDriver, globals } from "./common.js";

export default async function imageBuild(
  program: Command,
  dir: string,
  opts: { tag: string; file?: string; buildArg: string[] },
): Promise<void> {
  const driver = await engineDriver(program);
  // The engine's lines as they come, plain in a terminal too: a build's own output is the progress.
  const r = await buildAndLoad(
    driver,
    globals(program).profile,
    { dir, tag: opts.tag, dockerfile: opts.file, buildArgs: opts.buildArg },
    (line) => process.stdout.write(`${line}\n`),
  );
  process.stdout.write(`built ${r.tag} and loaded it (${humanBytes(r.bytes)}) into ${r.nodes.join(", ")}\n`);
}
