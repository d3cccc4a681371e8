import type { Command } from "commander";
import type { SourceChoice } from "../../src/artifacts/source-choice.js";
import { enableAddonOf } from "../../src/ops/addons.js";
import { runSteps } from "../ui/tasks.js";
import { engineDriver, globals, sourceOf } from "./common.js";

export default async function addonsEnable(
  program: Command,
  name: string,
  opts: { set?: Record<string, string>; source?: string; artifacts?: string },
): Promise<void> {
  await enableWithProgress(program, name, opts.set ?? {}, sourceOf(opts));
}

/** Enables the addon with these values, its progress as one step; then what the addon says about its use. */
export async function enableWithProgress(program: Command, name: string, set: Record<string, string>, source: SourceChoice): Promise<void> {
  const profile = globals(program).profile;
  const driver = await engineDriver(program);
  let usage: string | undefined;
  await runSteps(
    [
      {
        title: `addon ${name}`,
        run: async (step) => {
          ({ usage } = await enableAddonOf(profile, name, { driver, set, source, onStep: step }));
        },
      },
    ],
    { verbose: globals(program).verbose },
  );
  process.stdout.write(`addon ${name} is enabled${usage ? `\n${usage.trim()}` : ""}\n`);
}
