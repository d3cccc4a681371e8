import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ImageStore } from "../drivers/types.js";
import { projectRoot } from "../util/project.js";
import { baseImageOnce } from "./base-image.js";
import type { ArtifactCache } from "./cache.js";
import { LABEL_BUILT_FROM, LABEL_ORIGIN, patchBaseArg } from "./images.js";

export const LOAD_BALANCER_REPO = "kubeyard/load-balancer";

/**
 * Makes the API servers' load balancer image (HAProxy from Debian on the node base), tagged by the
 * hash of its inputs so an unchanged one is reused. One build at a time across processes.
 */
export async function ensureLoadBalancerImage(
  images: ImageStore,
  opts: { cache: ArtifactCache; onStep?: (s: string) => void },
): Promise<string> {
  const dir = path.join(projectRoot(), "images", "load-balancer");
  const workDir = await opts.cache.tempDir();
  const log = opts.cache.logPath("load-balancer", "haproxy", "source");
  try {
    const base = await baseImageOnce(images, { log, workDir, onStep: opts.onStep })();
    const hash = createHash("sha256").update(base);
    for (const f of (await fs.readdir(dir)).sort()) hash.update(f).update(await fs.readFile(path.join(dir, f)));
    const tag = `${LOAD_BALANCER_REPO}:${hash.digest("hex").slice(0, 12)}`;
    if (await images.inspect(tag)) return tag;
    const release = await opts.cache.lock("load-balancer-image");
    try {
      if (await images.inspect(tag)) return tag;
      opts.onStep?.(`image ${tag}`);
      const context = path.join(workDir, "context");
      await fs.cp(dir, context, { recursive: true });
      await patchBaseArg(path.join(context, "Dockerfile"), base);
      await images.build(context, tag, { labels: { [LABEL_BUILT_FROM]: "source", [LABEL_ORIGIN]: "debian:bookworm haproxy" }, log });
      await removeOlderImages(images, tag);
      return tag;
    } finally {
      await release();
    }
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Images of earlier inputs serve no new cluster. The engine refuses to remove one a cluster's
 * load balancer still runs from, and that one stays until the cluster is gone.
 */
async function removeOlderImages(images: ImageStore, current: string): Promise<void> {
  const older = (await images.list({ reference: LOAD_BALANCER_REPO }))
    .flatMap((i) => i.tags)
    .filter((t) => t.startsWith(`${LOAD_BALANCER_REPO}:`) && t !== current);
  for (const t of older) await images.remove(t).catch(() => undefined);
}
