import type { ImageStore } from "../drivers/types.js";
import { ArtifactCache } from "./cache.js";
import { ensureStandaloneImage } from "./images.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, TEST_IMAGES, type ImageName } from "../versions/versions.js";

/**
 * Makes a test image (one of TEST_IMAGES) present in the host's engine, pulled or else built from its
 * Go module, and returns its reference; `kubeyard image load` then puts it on a cluster's nodes.
 */
export async function ensureTestImage(images: ImageStore, name: ImageName, onStep?: (s: string) => void): Promise<string> {
  if (!TEST_IMAGES.includes(name)) throw new Error(`${name} is not a test image (those are ${TEST_IMAGES.join(", ")})`);
  return ensureStandaloneImage(images, name, findVersion(DEFAULT_KUBERNETES_VERSION)!, {
    cache: new ArtifactCache(),
    source: "auto",
    onStep,
  });
}
