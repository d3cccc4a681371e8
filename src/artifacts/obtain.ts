import type { ArtifactCache, CachedArtifact } from "./cache.js";
import { NetworkUnreachableError } from "./download.js";
import { artifactVersion, type ArtifactName } from "./recipes.js";
import { fetchReleaseArtifact, RELEASE_ARTIFACTS, type ReleaseArtifactName } from "./release-artifact.js";
import { buildArtifact, type Progress } from "./source-artifact.js";
import type { SourceChoice } from "./source-choice.js";
import type { ComponentVersions } from "../versions/versions.js";

/** Once the release downloads proved unreachable, this process stops trying them (and says so once). */
let releaseUnreachable = false;

/**
 * Gets binary artifacts by the chosen route. `auto` takes whatever the cache already holds, else
 * tries the official release and, when the internet cannot be reached, builds from source instead
 * (saying so once, not once per artifact).
 */
export async function obtainBinaries(
  names: ArtifactName[],
  v: ComponentVersions,
  opts: Progress & { cache: ArtifactCache; source: SourceChoice },
): Promise<CachedArtifact[]> {
  const out: CachedArtifact[] = [];
  for (const name of names) {
    const releasable = (RELEASE_ARTIFACTS as readonly string[]).includes(name);
    if (opts.source === "source" || !releasable) {
      out.push(await buildArtifact(name, v, opts.cache, opts));
      continue;
    }
    if (opts.source === "release") {
      out.push(await fetchReleaseArtifact(name as ReleaseArtifactName, v, opts.cache, opts));
      continue;
    }
    const version = artifactVersion(name, v);
    const cached = (await opts.cache.get(name, version, "release")) ?? (await opts.cache.get(name, version, "source"));
    if (cached) {
      out.push(cached);
      continue;
    }
    if (!releaseUnreachable) {
      try {
        out.push(await fetchReleaseArtifact(name as ReleaseArtifactName, v, opts.cache, opts));
        continue;
      } catch (err) {
        if (!(err instanceof NetworkUnreachableError)) throw err;
        releaseUnreachable = true;
        opts.warn?.(`the release downloads cannot be reached (${err.message.split("\n")[0]}); building from Go modules instead`);
      }
    }
    out.push(await buildArtifact(name, v, opts.cache, opts));
  }
  return out;
}
