import { readdir } from "node:fs/promises";
import path from "node:path";
import type { ArtifactCache } from "../artifacts/cache.js";
import { buildArtifact, type Progress } from "../artifacts/source-artifact.js";
import type { ComponentVersions } from "../versions/versions.js";
import { loadManifestFile, type Addon } from "./catalog.js";

/**
 * The addon with the manifests its descriptor takes from cache artifacts (the Gateway API CRDs from
 * their Go module, say) added, verbatim, after its own. Made on first use, cached after that.
 */
export async function withArtifactManifests(
  addon: Addon,
  v: ComponentVersions,
  cache: ArtifactCache,
  progress: Progress = {},
): Promise<Addon> {
  if (!addon.manifestArtifacts.length) return addon;
  const extra = await Promise.all(
    addon.manifestArtifacts.map(async (name) => {
      const art = await buildArtifact(name, v, cache, progress);
      const files = (await readdir(art.dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
      return Promise.all(files.map(async (f) => ({ ...(await loadManifestFile(path.join(art.dir, f))), verbatim: true })));
    }),
  );
  return { ...addon, manifests: [...addon.manifests, ...extra.flat()] };
}
