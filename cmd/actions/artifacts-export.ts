import type { Command } from "commander";
import { exportBundle } from "../../src/ops/bundle.js";
import { humanBytes } from "../ui/print.js";
import { printWarning, stepRunner } from "../ui/tasks.js";
import { engineDriver, globals, resolveVersion, sourceOf } from "./common.js";

export default async function artifactsExport(
  program: Command,
  file: string,
  opts: { kubernetesVersion?: string; source?: string; artifacts?: string; addons: boolean },
): Promise<void> {
  const v = resolveVersion(opts.kubernetesVersion);
  const { images } = await engineDriver(program, undefined, { profile: false });
  const manifest = await exportBundle(
    images,
    v,
    { source: sourceOf(opts), addons: opts.addons, file },
    { runner: stepRunner({ verbose: globals(program).verbose }), warn: printWarning },
  );
  const bytes = Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0);
  process.stdout.write(
    `${file}: Kubernetes v${v.kubernetes}, ${manifest.images.length} images, ${manifest.entries.length} cache entries, ${humanBytes(bytes)}\n` +
      `On the other machine: kubeyard artifacts import ${file}\n`,
  );
}
