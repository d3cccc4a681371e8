import type { Command } from "commander";
import { mirroredRegistries, startRegistryMirror } from "../../src/ops/mirror.js";
import { stepRunner } from "../ui/tasks.js";
import { driverFor, globals, sourceOf } from "./common.js";
import { printMirrors } from "./registry-mirror-status.js";

export default async function registryMirrorStart(
  program: Command,
  opts: { upstream: string[]; source?: string; artifacts?: string },
): Promise<void> {
  const wanted = mirroredRegistries(opts.upstream);
  const driver = await driverFor(program, { profile: false });
  let mirrors: Awaited<ReturnType<typeof startRegistryMirror>> = [];
  await stepRunner({ verbose: globals(program).verbose })([
    {
      title: "registry mirror",
      run: async (step) => void (mirrors = await startRegistryMirror(driver, wanted, { source: sourceOf(opts), onStep: step })),
    },
  ]);
  printMirrors(mirrors);
  process.stdout.write("New clusters, and clusters started again, pull through them too; `kubeyard registry-mirror stop` removes them.\n");
}
