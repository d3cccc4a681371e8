import type { ImageStore } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import { ArtifactCache } from "./cache.js";
import { ensureStandaloneImage, LABEL_BUILT_FROM, LABEL_REF } from "./images.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs, TEST_IMAGES, type ImageName } from "../versions/versions.js";

/**
 * Makes a test image (one of TEST_IMAGES) present in the host's engine, pulled or else built from its
 * Go module, and returns its reference; `kubeyard image load` then puts it on a cluster's nodes.
 */
export async function ensureTestImage(images: ImageStore, name: ImageName, onStep?: (s: string) => void): Promise<string> {
  if (!TEST_IMAGES.includes(name)) throw new Error(`${name} is not a test image (those are ${TEST_IMAGES.join(", ")})`);
  const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
  const ref = imageRefs(v)[name];
  await dropOutdatedBuild(images, ref);
  await ensureStandaloneImage(images, name, v, { cache: new ArtifactCache(), source: "auto", onStep });
  return ref;
}

/**
 * Untags `ref` when kubeyard built it before its images named what they were built for (LABEL_REF):
 * such an agnhost holds only the netexec command, which the upstream e2e specs outgrow.
 */
async function dropOutdatedBuild(images: ImageStore, ref: string): Promise<void> {
  const info = await images.inspect(ref);
  if (!info || info.labels[LABEL_BUILT_FROM] !== "source" || info.labels[LABEL_REF] === ref) return;
  try {
    await images.remove(ref);
  } catch (err) {
    throw new UserError(
      `${ref} is an older kubeyard build that must be rebuilt, and removing it failed: ${(err as Error).message}`,
      `Remove the containers that use it (docker ps -a --filter ancestor=${ref}), then try again.`,
    );
  }
}
