import type { Command } from "commander";
import { fetchArtifacts } from "../../src/ops/artifacts.js";
import { printWarning, stepRunner } from "../ui/tasks.js";
import { engineDriver, globals, resolveVersion, sourceOf } from "./common.js";

export default async function artifactsFetch(
  program: Command,
  opts: { kubernetesVersion?: string; source?: string; artifacts?: string; addons: boolean },
): Promise<void> {
  const v = resolveVersion(opts.kubernetesVersion);
  const { images } = await engineDriver(program, undefined, { profile: false });
  await fetchArtifacts(
    images,
    v,
    { source: sourceOf(opts), addons: opts.addons },
    { runner: stepRunner({ verbose: globals(program).verbose }), warn: printWarning },
  );
  process.stdout.write(`artifacts for Kubernetes v${v.kubernetes} are ready\n`);
}
