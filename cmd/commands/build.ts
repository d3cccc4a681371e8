import type { Command } from "commander";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";
import { addSourceOptions } from "./common.js";

export function registerBuild(program: Command): void {
  const build = program.command("build").description("build images kubeyard runs");
  addSourceOptions(
    build
      .command("node-image")
      .description("build the node image for a Kubernetes version (binaries, runtime, preloaded pod images)")
      .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
      .option("--force", "rebuild even when an image with the same inputs exists", false)
      .option("-o, --output <format>", "text or json", parseOutput, "text"),
  ).action(lazy(() => import("../actions/build-node-image.js")));
}
