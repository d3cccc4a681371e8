import type { Command } from "commander";
import { loadImages } from "../../src/day2/image-load.js";
import { humanBytes } from "../ui/print.js";
import { engineDriver, globals } from "./common.js";

export default async function imageLoad(program: Command, refs: string[], opts: { archive: string[] }): Promise<void> {
  const driver = await engineDriver(program);
  const r = await loadImages(driver, globals(program).profile, { images: refs, archives: opts.archive });
  const what = [...refs, ...opts.archive].join(", ");
  process.stdout.write(`loaded ${what} (${humanBytes(r.bytes)}) into ${r.nodes.join(", ")}\n`);
}
