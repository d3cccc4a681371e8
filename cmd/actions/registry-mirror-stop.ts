import type { Command } from "commander";
import { stopRegistryMirror } from "../../src/ops/mirror.js";
import { driverFor } from "./common.js";

export default async function registryMirrorStop(program: Command, opts: { deleteCache: boolean }): Promise<void> {
  const driver = await driverFor(program, { profile: false });
  const removed = await stopRegistryMirror(driver, { deleteCache: opts.deleteCache });
  if (!removed.length) return void process.stdout.write("No registry mirror runs.\n");
  process.stdout.write(
    `Removed the mirrors of ${removed.map((m) => m.registry).join(", ")}${opts.deleteCache ? ", and what they cached" : " (their caches are kept for the next start)"}.\n`,
  );
}
