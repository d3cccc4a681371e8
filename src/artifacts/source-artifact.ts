import { rm } from "node:fs/promises";
import { ArtifactCache, type CachedArtifact } from "./cache.js";
import { BuildError, checkGo } from "./go-toolchain.js";
import { artifactVersion, recipeFor, type ArtifactName } from "./recipes.js";
import { buildRecipe } from "./source-build.js";
import type { ComponentVersions } from "../versions/versions.js";
import { humanDuration, type ProgressLine } from "../util/progress.js";

export interface Progress {
  /** The current step of the current artifact, for the progress line. */
  onStep?: ProgressLine;
  /** Said once, to the user, whatever the verbosity. */
  warn?: (message: string) => void;
}

/** Builds one artifact from its Go module into the cache (or returns the cached build). */
export async function buildArtifact(
  name: ArtifactName,
  v: ComponentVersions,
  cache: ArtifactCache,
  progress: Progress = {},
): Promise<CachedArtifact> {
  const version = artifactVersion(name, v);
  const recipe = recipeFor(name, v);
  const cached = await cache.get(name, version, "source");
  if (cached) return cached;
  const origin = `${recipe.module}@${recipe.version}`;
  if (recipe.kind !== "c") await checkGo(origin);
  const log = cache.logPath(name, version, "source");
  const last = await cache.lastSeconds(name, "source");
  return cache.ensure({ name, version, source: "source", origin }, async (outDir) => {
    const estimate = last === undefined ? "" : `, ${humanDuration(last * 1000)} last time`;
    progress.onStep?.(`build from ${origin}${estimate}; log: ${log}`, { keep: true });
    const workDir = await cache.tempDir();
    try {
      await buildRecipe(recipe, { outDir, workDir, log, onStep: progress.onStep });
    } catch (err) {
      throw err instanceof BuildError ? await BuildError.withTail(err) : err;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
}
