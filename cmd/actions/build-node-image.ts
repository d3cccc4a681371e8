import type { Command } from "commander";
import { buildNodeImageOf } from "../../src/ops/artifacts.js";
import { humanBytes, printJson, type OutputFormat } from "../ui/print.js";
import { printWarning, stepRunner } from "../ui/tasks.js";
import { engineDriver, globals, resolveVersion, sourceOf } from "./common.js";

export default async function buildNodeImage(
  program: Command,
  opts: { kubernetesVersion?: string; source?: string; artifacts?: string; force: boolean; output: OutputFormat },
): Promise<void> {
  const v = resolveVersion(opts.kubernetesVersion);
  const { images } = await engineDriver(program, undefined, { profile: false });
  const result = await buildNodeImageOf(
    images,
    v,
    { source: sourceOf(opts), force: opts.force },
    { runner: stepRunner({ verbose: globals(program).verbose }), warn: printWarning },
  );
  if (opts.output === "json") return printJson(result);
  process.stdout.write(`${result.tag} ${result.built ? "built" : "is up to date"} (${humanBytes(result.size)})\n`);
}
