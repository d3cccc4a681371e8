import type { Command } from "commander";
import { importBundle } from "../../src/ops/bundle.js";
import { printWarning, stepRunner } from "../ui/tasks.js";
import { engineDriver, globals } from "./common.js";

export default async function artifactsImport(program: Command, file: string): Promise<void> {
  const { images } = await engineDriver(program, undefined, { profile: false });
  const r = await importBundle(images, file, { runner: stepRunner({ verbose: globals(program).verbose }), warn: printWarning });
  process.stdout.write(
    `imported Kubernetes v${r.kubernetesVersion}: ${r.images.length} images, ${r.entriesAdded} cache entries added ` +
      `(${r.entries - r.entriesAdded} were there)\n` +
      `kubeyard start --kubernetes-version ${r.kubernetesVersion} needs nothing else\n`,
  );
}
