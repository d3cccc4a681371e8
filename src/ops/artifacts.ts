import { rm } from "node:fs/promises";
import type { StepRunner } from "../create/action.js";
import { baseImageOnce } from "../artifacts/base-image.js";
import { ArtifactCache } from "../artifacts/cache.js";
import { cachedImageArchive } from "../artifacts/image-archive.js";
import { ensureImage, imageSources } from "../artifacts/images.js";
import { listImageArtifacts, pruneArtifacts, type Removed } from "../artifacts/inventory.js";
import { buildNodeImage, type NodeImageResult } from "../artifacts/node-image.js";
import { obtainBinaries } from "../artifacts/obtain.js";
import { ADDON_DATA } from "../artifacts/recipes.js";
import { RELEASE_ARTIFACTS } from "../artifacts/release-artifact.js";
import { buildArtifact } from "../artifacts/source-artifact.js";
import type { SourceChoice } from "../artifacts/source-choice.js";
import { createDriver, type DriverChoice, type ImageStore } from "../drivers/index.js";
import { ADDON_IMAGES, NODE_IMAGES, type ComponentVersions } from "../versions/versions.js";

/** How an operation on artifacts shows progress: its steps, and warnings that are always shown. */
export interface ArtifactsUi {
  runner: StepRunner;
  warn: (text: string) => void;
}

/** A line of `kubeyard artifacts list`. */
export interface ArtifactRow {
  kind: "binaries" | "image";
  name: string;
  version: string;
  source: string;
  bytes: number;
  where: string;
}

/** What is cached: binaries in kubeyard's cache, then kubeyard's images in the engine. */
export async function listArtifacts(driver: DriverChoice): Promise<ArtifactRow[]> {
  const files = await new ArtifactCache().list();
  // Without an engine, the listing shows the cache alone.
  const images = await listImageArtifacts((await createDriver(driver)).images).catch(() => []);
  return [
    ...files.map((a) => ({ kind: "binaries" as const, name: a.name, version: a.version, source: a.source, bytes: a.bytes, where: a.dir })),
    ...images.map((i) => ({
      kind: "image" as const,
      name: i.ref,
      version: i.version,
      source: i.source,
      bytes: i.bytes,
      where: "container engine",
    })),
  ];
}

/**
 * `kubeyard artifacts fetch`: every binary and image a cluster of version `v` needs (with `addons`, also
 * the addon images and data), one step each. The work dir of image builds is removed however it ends.
 */
export async function fetchArtifacts(
  images: ImageStore,
  v: ComponentVersions,
  opts: { source: SourceChoice; addons: boolean },
  ui: ArtifactsUi,
): Promise<void> {
  const cache = new ArtifactCache();
  const workDir = await cache.tempDir();
  const baseImage = baseImageOnce(images, { log: cache.logPath("base", "bookworm", "source"), workDir });
  const sources = imageSources(opts.source);
  const wanted = [...NODE_IMAGES, ...(opts.addons ? ADDON_IMAGES : [])];
  // Addon images are loaded into nodes from their archives; made now, the first enable needn't.
  const archived = new Set<string>(ADDON_IMAGES);
  const warn = ui.warn;
  await ui
    .runner([
      ...RELEASE_ARTIFACTS.map((name) => ({
        title: `${name}`,
        run: async (step: (s: string) => void) => {
          await obtainBinaries([name], v, { cache, source: opts.source, onStep: step, warn });
        },
      })),
      ...wanted.map((name) => ({
        title: `image ${name}`,
        run: async (step: (s: string) => void) => {
          const ref = await ensureImage(images, name, v, { cache, baseImage, sources, onStep: step, warn });
          if (archived.has(name)) {
            step("archive for loading into nodes");
            await cachedImageArchive(images, cache, name, ref);
          }
        },
      })),
      ...(opts.addons ? ADDON_DATA : []).map((name) => ({
        title: name,
        run: async (step: (s: string) => void) => {
          await buildArtifact(name, v, cache, { onStep: step, warn });
        },
      })),
    ])
    .finally(() => rm(workDir, { recursive: true, force: true }));
}

/** `kubeyard artifacts prune`: see pruneArtifacts; the engine's images are left alone when it does not answer. */
export async function pruneCachedArtifacts(opts: { all: boolean; driver: DriverChoice }): Promise<Removed[]> {
  return pruneArtifacts(new ArtifactCache(), (await createDriver(opts.driver)).images, opts);
}

/** `kubeyard build node-image`: the node image of version `v`, built unless an image of the same inputs exists. */
export async function buildNodeImageOf(
  images: ImageStore,
  v: ComponentVersions,
  opts: { source: SourceChoice; force: boolean },
  ui: ArtifactsUi,
): Promise<NodeImageResult> {
  const cache = new ArtifactCache();
  let result: NodeImageResult | undefined;
  await ui.runner([
    {
      title: `node image for Kubernetes v${v.kubernetes}`,
      run: async (step) => {
        result = await buildNodeImage(images, v, {
          cache,
          source: opts.source,
          force: opts.force,
          log: cache.logPath("node-image", v.kubernetes, "source"),
          onStep: step,
          warn: ui.warn,
        });
      },
    },
  ]);
  return result!;
}
