import { promises as fs } from "node:fs";
import path from "node:path";
import { UserError } from "../util/errors.js";
import type { ArtifactCache, CachedArtifact } from "./cache.js";
import { artifactVersion } from "./recipes.js";
import { binaryEntry, fetchReleaseBinaries, hostArch, releaseArtifacts, type ReleaseArtifact } from "./release.js";
import type { Progress } from "./source-artifact.js";
import type { ComponentVersions } from "../versions/versions.js";

/** The artifacts that have official release downloads; images are pulled by the engine instead. */
export const RELEASE_ARTIFACTS = ["kubernetes", "etcd", "containerd", "runc", "cni-plugins", "crio", "pinns"] as const;
export type ReleaseArtifactName = (typeof RELEASE_ARTIFACTS)[number];

const holds = (a: ReleaseArtifact, name: string) => a.binaries.some((b) => binaryEntry(a, b) === name);

/**
 * Downloads one component's official release files, verified, into its own cache entry. A download that
 * also holds other entries' binaries (CRI-O's bundle: crio and pinns) files them too, so it happens once;
 * asking for such an entry first fetches the download's own entry.
 */
export async function fetchReleaseArtifact(
  name: ReleaseArtifactName,
  v: ComponentVersions,
  cache: ArtifactCache,
  progress: Progress = {},
): Promise<CachedArtifact> {
  const arch = hostArch();
  if (!arch) throw new UserError(`there are no official Kubernetes release binaries for ${process.arch}`, "Use --source source.");
  const artifacts = releaseArtifacts(v, arch).filter((a) => holds(a, name));
  const lead = artifacts[0]?.entry ?? name;
  if (lead !== name && !(await cache.get(name, artifactVersion(name, v), "release"))) {
    await fetchReleaseArtifact(lead as ReleaseArtifactName, v, cache, progress);
  }
  const entries = new Map(artifacts.flatMap((a) => a.binaries.map((b) => [b.name, binaryEntry(a, b)] as const)));
  return cache.ensure(releaseKey(name, v), async (tmp) => {
    const into = path.join(tmp, "fetch");
    let last = "";
    const files = await fetchReleaseBinaries(v, into, {
      arch,
      select: (a) => holds(a, name),
      onProgress: (p) => {
        const line = `download ${p.file} ${downloadGauge(p.received, p.total)}`;
        if (line !== last) progress.onStep?.((last = line));
      },
    });
    const others = new Map<ReleaseArtifactName, [string, string][]>();
    for (const [bin, file] of Object.entries(files)) {
      const entry = entries.get(bin) as ReleaseArtifactName;
      if (entry === name) await fs.rename(file, path.join(tmp, bin));
      else if (lead === name) others.set(entry, [...(others.get(entry) ?? []), [bin, file]]);
    }
    for (const [entry, bins] of others) {
      await cache.ensure(releaseKey(entry, v), async (dir) => {
        for (const [bin, file] of bins) await fs.rename(file, path.join(dir, bin));
      });
    }
    await fs.rm(into, { recursive: true, force: true });
  });
}

function releaseKey(name: ReleaseArtifactName, v: ComponentVersions) {
  return { name, version: artifactVersion(name, v), source: "release" as const, origin: "official release downloads" };
}

const BAR_WIDTH = 20;

/** "[#######.............] 35% 93/266 MiB", or the MiB so far when the size is unknown; changes once per percent. */
export function downloadGauge(received: number, total: number | undefined): string {
  const mib = (n: number) => (n / 1048576).toFixed(0);
  if (!total) return `${mib(received)} MiB`;
  const pct = Math.floor((100 * received) / total);
  const filled = Math.floor((BAR_WIDTH * pct) / 100);
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${pct}% ${mib((total * pct) / 100)}/${mib(total)} MiB`;
}
