import { promises as fs } from "node:fs";
import path from "node:path";
import { UserError } from "../util/errors.js";
import type { ArtifactCache, CachedArtifact } from "./cache.js";
import { artifactVersion } from "./recipes.js";
import { fetchReleaseBinaries, hostArch, KUBERNETES_BINARIES, type ReleaseArtifact } from "./release.js";
import type { Progress } from "./source-artifact.js";
import type { ComponentVersions } from "../versions/versions.js";

/** The artifacts that have official release downloads; images are pulled by the engine instead. */
export const RELEASE_ARTIFACTS = ["kubernetes", "etcd", "containerd", "runc", "cni-plugins"] as const;
export type ReleaseArtifactName = (typeof RELEASE_ARTIFACTS)[number];

function belongsTo(name: ReleaseArtifactName, a: ReleaseArtifact): boolean {
  const bins = a.binaries.map((b) => b.name);
  switch (name) {
    case "kubernetes":
      return bins.some((b) => (KUBERNETES_BINARIES as readonly string[]).includes(b));
    case "etcd":
      return bins.includes("etcd");
    case "containerd":
      return bins.includes("containerd");
    case "runc":
      return bins.includes("runc");
    case "cni-plugins":
      return bins.includes("bridge");
  }
}

/** Downloads one component's official release files, verified, into its own cache entry. */
export async function fetchReleaseArtifact(
  name: ReleaseArtifactName,
  v: ComponentVersions,
  cache: ArtifactCache,
  progress: Progress = {},
): Promise<CachedArtifact> {
  const arch = hostArch();
  if (!arch) throw new UserError(`there are no official Kubernetes release binaries for ${process.arch}`, "Use --source source.");
  const version = artifactVersion(name, v);
  return cache.ensure({ name, version, source: "release", origin: "official release downloads" }, async (tmp) => {
    const into = path.join(tmp, "fetch");
    let last = "";
    const files = await fetchReleaseBinaries(v, into, {
      arch,
      select: (a) => belongsTo(name, a),
      onProgress: (p) => {
        const line = `download ${p.file} ${downloadGauge(p.received, p.total)}`;
        if (line !== last) progress.onStep?.((last = line));
      },
    });
    for (const [bin, file] of Object.entries(files)) await fs.rename(file, path.join(tmp, bin));
    await fs.rm(into, { recursive: true, force: true });
  });
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
