import type { Command } from "commander";
import type { NodeImageResult } from "../../src/artifacts/node-image.js";
import { humanBytes, parseOutput, printJson } from "../ui/print.js";
import { runSteps } from "../ui/tasks.js";
import { addSourceOptions, engineDriver, globals, resolveVersion, sourceOf } from "./common.js";

export function registerBuild(program: Command): void {
  const build = program.command("build").description("build images kubeyard runs");
  addSourceOptions(build
    .command("node-image")
    .description("build the node image for a Kubernetes version (binaries, runtime, preloaded pod images)")
    .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
    .option("--force", "rebuild even when an image with the same inputs exists", false)
    .option("-o, --output <format>", "text or json", parseOutput, "text"))
    .action(async (opts: { kubernetesVersion?: string; source?: string; artifacts?: string; force: boolean; output: "text" | "json" }) => {
      const v = resolveVersion(opts.kubernetesVersion);
      const { ArtifactCache } = await import("../../src/artifacts/cache.js");
      const { buildNodeImage } = await import("../../src/artifacts/node-image.js");
      const { images } = await engineDriver();
      const cache = new ArtifactCache();
      let result: NodeImageResult | undefined;
      await runSteps(
        [
          {
            title: `node image for Kubernetes v${v.kubernetes}`,
            run: async (step, warn) => {
              result = await buildNodeImage(images, v, {
                cache,
                source: sourceOf(opts),
                force: opts.force,
                log: cache.logPath("node-image", v.kubernetes, "source"),
                onStep: step,
                warn,
              });
            },
          },
        ],
        { verbose: globals(program).verbose },
      );
      if (opts.output === "json") return printJson(result);
      process.stdout.write(`${result!.tag} ${result!.built ? "built" : "is up to date"} (${humanBytes(result!.size)})\n`);
    });
}
