import type { Command } from "commander";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";
import { addSourceOptions } from "./common.js";

export function registerArtifacts(program: Command): void {
  const artifacts = program
    .command("artifacts")
    .description("binaries and images clusters are made of: list, fetch, prune, export, import");

  artifacts
    .command("list")
    .description("show what is cached: name, version, source, size")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/artifacts-list.js")));

  addSourceOptions(
    artifacts
      .command("fetch")
      .description("download (release) or build (source) everything a cluster of this version needs")
      .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
      .option("--addons", "also fetch the addon images (metrics-server, traefik, registry, kube-web-view) and the Gateway API CRDs", false),
  ).action(lazy(() => import("../actions/artifacts-fetch.js")));

  addSourceOptions(
    artifacts
      .command("export")
      .description("write one verified bundle of everything a cluster of this version needs, for machines without internet or Go")
      .argument("<file>", "the bundle to write (a tar; replaced only once complete)")
      .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
      .option("--addons", "also bundle the addon images and data", false),
  ).action(lazy(() => import("../actions/artifacts-export.js")));

  artifacts
    .command("import")
    .description("check a bundle `artifacts export` wrote, then load its images and fill the cache from it")
    .argument("<file>", "the bundle")
    .action(lazy(() => import("../actions/artifacts-import.js")));

  artifacts
    .command("prune")
    .description("remove cached artifacts of versions kubeyard no longer supports, and leftovers of interrupted work")
    .option("--all", "remove every cached artifact and kubeyard-built image", false)
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/artifacts-prune.js")));
}
