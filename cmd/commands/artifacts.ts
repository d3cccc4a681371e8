import { rm } from "node:fs/promises";
import type { Command } from "commander";
import { ADDON_IMAGES, NODE_IMAGES } from "../../src/versions/versions.js";
import { createDriver } from "../../src/drivers/index.js";
import { humanBytes, parseOutput, printJson, printTable } from "../ui/print.js";
import { runSteps } from "../ui/tasks.js";
import { addSourceOptions, engineDriver, globals, resolveVersion, sourceOf } from "./common.js";

export function registerArtifacts(program: Command): void {
  const artifacts = program.command("artifacts").description("binaries and images clusters are made of: list, fetch, prune");

  artifacts
    .command("list")
    .description("show what is cached: name, version, source, size")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const { ArtifactCache } = await import("../../src/artifacts/cache.js");
      const { listImageArtifacts } = await import("../../src/artifacts/inventory.js");
      const cache = new ArtifactCache();
      const files = await cache.list();
      // Without an engine, the listing shows the cache alone.
      const images = await listImageArtifacts((await createDriver()).images).catch(() => []);
      const rows = [
        ...files.map((a) => ({ kind: "binaries", name: a.name, version: a.version, source: a.source, bytes: a.bytes, where: a.dir })),
        ...images.map((i) => ({ kind: "image", name: i.ref, version: i.version, source: i.source, bytes: i.bytes, where: "container engine" })),
      ];
      if (opts.output === "json") return printJson(rows);
      if (!rows.length) return void process.stdout.write("nothing cached yet; `kubeyard artifacts fetch` fills the cache\n");
      printTable(
        ["KIND", "NAME", "VERSION", "SOURCE", "SIZE"],
        rows.map((r) => [r.kind, r.name, r.version, r.source, humanBytes(r.bytes)]),
      );
    });

  addSourceOptions(artifacts
    .command("fetch")
    .description("download (release) or build (source) everything a cluster of this version needs")
    .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
    .option("--addons", "also fetch the addon images (metrics-server, traefik, registry, kube-web-view) and the Gateway API CRDs", false))
    .action(async (opts: { kubernetesVersion?: string; source?: string; artifacts?: string; addons: boolean }) => {
      const v = resolveVersion(opts.kubernetesVersion);
      const { ArtifactCache } = await import("../../src/artifacts/cache.js");
      const { baseImageOnce } = await import("../../src/artifacts/base-image.js");
      const { cachedImageArchive } = await import("../../src/artifacts/image-archive.js");
      const { ensureImage, imageSources } = await import("../../src/artifacts/images.js");
      const { obtainBinaries } = await import("../../src/artifacts/obtain.js");
      const { ADDON_DATA } = await import("../../src/artifacts/recipes.js");
      const { RELEASE_ARTIFACTS } = await import("../../src/artifacts/release-artifact.js");
      const { buildArtifact } = await import("../../src/artifacts/source-artifact.js");
      const cache = new ArtifactCache();
      const { images: engineImages } = await engineDriver();
      const workDir = await cache.tempDir();
      const baseImage = baseImageOnce(engineImages, { log: cache.logPath("base", "bookworm", "source"), workDir });
      const sources = imageSources(sourceOf(opts));
      const images = [...NODE_IMAGES, ...(opts.addons ? ADDON_IMAGES : [])];
      // Addon images are loaded into nodes from their archives; made now, the first enable needn't.
      const archived = new Set<string>(ADDON_IMAGES);
      await runSteps(
        [
          ...RELEASE_ARTIFACTS.map((name) => ({
            title: `${name}`,
            run: (step: (s: string) => void, warn: (s: string) => void) =>
              obtainBinaries([name], v, { cache, source: sourceOf(opts), onStep: step, warn }),
          })),
          ...images.map((name) => ({
            title: `image ${name}`,
            run: async (step: (s: string) => void, warn: (s: string) => void) => {
              const ref = await ensureImage(engineImages, name, v, { cache, baseImage, sources, onStep: step, warn });
              if (archived.has(name)) {
                step("archive for loading into nodes");
                await cachedImageArchive(engineImages, cache, name, ref);
              }
            },
          })),
          ...(opts.addons ? ADDON_DATA : []).map((name) => ({
            title: name,
            run: (step: (s: string) => void, warn: (s: string) => void) => buildArtifact(name, v, cache, { onStep: step, warn }),
          })),
        ],
        { verbose: globals(program).verbose },
      ).finally(() => rm(workDir, { recursive: true, force: true }));
      process.stdout.write(`artifacts for Kubernetes v${v.kubernetes} are ready\n`);
    });

  artifacts
    .command("prune")
    .description("remove cached artifacts of versions kubeyard no longer supports, and leftovers of interrupted work")
    .option("--all", "remove every cached artifact and kubeyard-built image", false)
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { all: boolean; output: "text" | "json" }) => {
      const { ArtifactCache } = await import("../../src/artifacts/cache.js");
      const { pruneArtifacts } = await import("../../src/artifacts/inventory.js");
      const removed = await pruneArtifacts(new ArtifactCache(), (await createDriver()).images, { all: opts.all });
      if (opts.output === "json") return printJson(removed);
      if (!removed.length) return void process.stdout.write("nothing to prune\n");
      for (const r of removed) process.stdout.write(`removed ${r.name} ${r.version} (${r.source}, ${humanBytes(r.bytes)})\n`);
    });
}
