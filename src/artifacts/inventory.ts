import type { ImageStore } from "../drivers/types.js";
import { type ArtifactCache } from "./cache.js";
import { isArchiveOfImageIn } from "./image-archive.js";
import { LABEL_BUILT_FROM } from "./images.js";
import { LABEL_K8S_VERSION, NODE_IMAGE_REPO } from "./node-image.js";
import { ARTIFACT_NAMES, artifactVersion } from "./recipes.js";
import { imageRefs, SUPPORTED } from "../versions/versions.js";

export interface ImageEntry {
  ref: string;
  version: string;
  source: string;
  bytes: number;
}

/** kubeyard's images in the engine: node and base images, and every pod image of a supported version. */
export async function listImageArtifacts(images: ImageStore): Promise<ImageEntry[]> {
  const wanted = new Set<string>(SUPPORTED.flatMap((v) => Object.values(imageRefs(v))));
  const out: ImageEntry[] = [];
  for (const img of await images.list()) {
    for (const tag of img.tags) {
      const labels = img.labels;
      const ours = tag.startsWith(`${NODE_IMAGE_REPO}:`) || tag.startsWith("kubeyard/base:");
      if (!ours && !wanted.has(tag) && !wanted.has(`docker.io/${tag}`) && !wanted.has(`docker.io/library/${tag}`)) continue;
      out.push({
        ref: tag,
        version: labels[LABEL_K8S_VERSION] ?? tag.slice(tag.lastIndexOf(":") + 1),
        source: labels[LABEL_BUILT_FROM] ?? (ours ? "source" : "pull"),
        bytes: img.size,
      });
    }
  }
  return out.sort((a, b) => a.ref.localeCompare(b.ref));
}

export interface Removed {
  name: string;
  version: string;
  source: string;
  bytes: number;
}

/**
 * Removes cache entries no supported Kubernetes version uses (everything with `all`), temp dirs of
 * interrupted runs, and with `all` also the images kubeyard built. Image archives stay as long as
 * their image is in the engine: the next `addons enable` copies them into nodes.
 */
export async function pruneArtifacts(cache: ArtifactCache, images: ImageStore, opts: { all: boolean }): Promise<Removed[]> {
  const inUse = new Set(SUPPORTED.flatMap((v) => ARTIFACT_NAMES.map((n) => `${n}@${artifactVersion(n, v)}`)));
  const engineImageIds = opts.all ? [] : (await images.list().catch(() => [])).map((i) => i.id);
  const removed: Removed[] = [];
  for (const a of await cache.list()) {
    if (opts.all || (!inUse.has(`${a.name}@${a.version}`) && !isArchiveOfImageIn(a, engineImageIds))) {
      await cache.remove(a);
      removed.push({ name: a.name, version: a.version, source: a.source, bytes: a.bytes });
    }
  }
  await cache.removeStaleTemp(opts.all ? 0 : undefined);
  removed.push(...(await buildLeftovers(images, opts.all ? 0 : LEFTOVER_AGE_MS).catch(() => [])));
  if (opts.all) {
    for (const img of await listImageArtifacts(images).catch(() => [])) {
      if (img.source !== "source") continue;
      await images.remove(img.ref).catch(() => undefined);
      removed.push({ name: img.ref, version: img.version, source: "image", bytes: img.bytes });
    }
  }
  return removed;
}

/** A build takes minutes: what one left this long ago belongs to no live build. */
const LEFTOVER_AGE_MS = 3600_000;

/**
 * What killed node image builds left in the engine: the preload step's stopped container, and the
 * stage image it ran from (one a running build still uses cannot be removed, and stays).
 */
async function buildLeftovers(images: ImageStore, olderThanMs: number): Promise<Removed[]> {
  const steps = await images.removeStoppedRuns(olderThanMs);
  const removed: Removed[] = steps.map((name) => ({ name, version: "", source: "stopped build step", bytes: 0 }));
  const stages = await images.list({ reference: `${NODE_IMAGE_REPO}-stage` });
  for (const img of stages.filter((i) => i.createdMs < Date.now() - olderThanMs)) {
    const ok = await images.remove(img.id).then(
      () => true,
      () => false,
    );
    if (ok) removed.push({ name: img.tags[0] ?? img.id, version: "", source: "stage image of a killed build", bytes: img.size });
  }
  return removed;
}
