import { rm } from "node:fs/promises";
import path from "node:path";
import { baseImageTag } from "../artifacts/base-image.js";
import { bundleImages, installEntries, unpackBundle, writeBundle, type BundleManifest } from "../artifacts/bundle.js";
import { ArtifactCache, type CachedArtifact } from "../artifacts/cache.js";
import { isArchiveOfImageIn } from "../artifacts/image-archive.js";
import { ensureLoadBalancerImage } from "../artifacts/load-balancer-image.js";
import { NODE_BINARIES } from "../artifacts/node-image.js";
import { ADDON_DATA, artifactVersion, type ArtifactName } from "../artifacts/recipes.js";
import type { SourceChoice } from "../artifacts/source-choice.js";
import type { ImageStore } from "../drivers/index.js";
import { normalizeImageRef } from "../node/images.js";
import { UserError } from "../util/errors.js";
import { ADDON_IMAGES, imageRefs, NODE_IMAGES, type ComponentVersions } from "../versions/versions.js";
import { buildNodeImageOf, fetchArtifacts, type ArtifactsUi } from "./artifacts.js";

/**
 * `kubeyard artifacts export`: makes whatever is missing (as `artifacts fetch` and `build node-image`
 * do), then writes one bundle of what a cluster of version `v` needs on a machine without internet or
 * Go: the node image and the images it was built from, the load balancer image, the node binaries,
 * and with `addons` the addon images, their node archives and data.
 */
export async function exportBundle(
  images: ImageStore,
  v: ComponentVersions,
  opts: { source: SourceChoice; addons: boolean; file: string },
  ui: ArtifactsUi,
): Promise<BundleManifest> {
  const file = path.resolve(opts.file);
  await fetchArtifacts(images, v, { source: opts.source, addons: opts.addons }, ui);
  const node = await buildNodeImageOf(images, v, { source: opts.source, force: false }, ui);
  const cache = new ArtifactCache();
  let manifest: BundleManifest | undefined;
  let loadBalancer = "";
  await ui.runner([
    {
      title: "load balancer image",
      run: async (step) => void (loadBalancer = await ensureLoadBalancerImage(images, { cache, onStep: step })),
    },
    {
      title: `bundle ${file}`,
      run: async (step) => {
        const refs = imageRefs(v);
        const addonRefs = opts.addons ? ADDON_IMAGES.map((n) => refs[n]) : [];
        const tags = [node.tag, await baseImageTag(), loadBalancer, ...NODE_IMAGES.map((n) => refs[n]), ...addonRefs];
        const entries = await bundleEntries(images, cache, v, addonRefs);
        manifest = await writeBundle(images, cache, { kubernetesVersion: v.kubernetes, images: tags, entries }, file, step);
      },
    },
  ]);
  return manifest!;
}

/** The cache entries a bundle holds: the node binaries, and for addons their data and images' archives. */
async function bundleEntries(
  images: ImageStore,
  cache: ArtifactCache,
  v: ComponentVersions,
  addonRefs: string[],
): Promise<CachedArtifact[]> {
  const names: ArtifactName[] = [...NODE_BINARIES, ...(addonRefs.length ? ADDON_DATA : [])];
  const all = await cache.list();
  const wanted = all.filter((a) => names.some((n) => a.name === n && a.version === artifactVersion(n, v)));
  const addonIds = (await Promise.all(addonRefs.map((r) => images.inspect(r)))).flatMap((i) => (i ? [i.id] : []));
  const archives = all.filter((a) => isArchiveOfImageIn(a, addonIds));
  // A binary may be cached from both routes; the bundle needs one.
  const missing = names.filter((n) => !wanted.some((a) => a.name === n));
  if (missing.length) throw new UserError(`the cache lacks ${missing.join(", ")} for Kubernetes v${v.kubernetes}`);
  return [...wanted, ...archives];
}

export interface ImportResult {
  kubernetesVersion: string;
  images: string[];
  entriesAdded: number;
  entries: number;
}

/**
 * `kubeyard artifacts import`: checks the whole bundle first (see unpackBundle), then loads its
 * images into the engine and adds its entries to the cache. A damaged bundle changes nothing.
 */
export async function importBundle(images: ImageStore, file: string, ui: ArtifactsUi): Promise<ImportResult> {
  const cache = new ArtifactCache();
  let unpacked: { dir: string; manifest: BundleManifest } | undefined;
  let result: ImportResult | undefined;
  try {
    await ui.runner([
      { title: `read ${file}`, run: async (step) => void (unpacked = await unpackBundle(cache, path.resolve(file), step)) },
      {
        title: "load images into the engine",
        run: async () => {
          // The engine names Docker Hub's images as `docker images` does (busybox:1.35.0): compared in full.
          const loaded = (await images.load(bundleImages(unpacked!.dir))).map(normalizeImageRef);
          const absent = unpacked!.manifest.images.filter((t) => !loaded.includes(normalizeImageRef(t)));
          if (absent.length) throw new UserError(`the engine did not load ${absent.join(", ")} from ${file}`);
        },
      },
      {
        title: "add to kubeyard's cache",
        run: async () => {
          const { dir, manifest } = unpacked!;
          const added = await installEntries(cache, dir, manifest);
          result = {
            kubernetesVersion: manifest.kubernetesVersion,
            images: manifest.images,
            entriesAdded: added,
            entries: manifest.entries.length,
          };
        },
      },
    ]);
  } finally {
    if (unpacked) await rm(unpacked.dir, { recursive: true, force: true });
  }
  return result!;
}
