import { rm } from "node:fs/promises";
import type { ImageStore } from "../drivers/types.js";
import { baseImageOnce } from "./base-image.js";
import { ArtifactCache } from "./cache.js";
import { ensureImage, imageSources } from "./images.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs, TEST_IMAGES, type ImageName } from "../versions/versions.js";

/**
 * Makes a test image (one of TEST_IMAGES) present in the host's engine, pulled or else built from its
 * Go module, and returns its reference; `kubeyard image load` then puts it on a cluster's nodes.
 */
export async function ensureTestImage(images: ImageStore, name: ImageName, onStep?: (s: string) => void): Promise<string> {
  if (!TEST_IMAGES.includes(name)) throw new Error(`${name} is not a test image (those are ${TEST_IMAGES.join(", ")})`);
  const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
  const cache = new ArtifactCache();
  const workDir = await cache.tempDir();
  try {
    await ensureImage(images, name, v, {
      cache,
      sources: imageSources("auto"),
      baseImage: baseImageOnce(images, { log: cache.logPath("base", "bookworm", "source"), workDir }),
      onStep,
    });
    return imageRefs(v)[name];
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
