import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";
import * as tar from "tar";
import type { ArtifactCache, ArtifactSource } from "./cache.js";
import { LABEL_BUILT_FROM } from "./images.js";
import type { ImageStore } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

const ARCHIVE_FILE = "image.tar";
const ARCHIVE_SUFFIX = "-archive";

/** An archive's cache entry: named after the image (metricsServer's is metrics-server-archive), versioned by its ID. */
function archiveEntry(name: string, imageId: string): { name: string; version: string } {
  return { name: `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${ARCHIVE_SUFFIX}`, version: shortId(imageId) };
}

function shortId(imageId: string): string {
  return imageId.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * Whether a cache entry is an image archive whose image the engine still holds: such an archive
 * serves the next load, while one of an image that was rebuilt or removed serves nothing.
 */
export function isArchiveOfImageIn(entry: { name: string; version: string }, engineImageIds: readonly string[]): boolean {
  return entry.name.endsWith(ARCHIVE_SUFFIX) && engineImageIds.some((id) => shortId(id) === entry.version);
}

/**
 * The path of an archive of the engine's image `ref` for loading into nodes, kept in kubeyard's
 * cache under the image's ID and made the first time it is asked for: exporting a large image from
 * the engine takes seconds on every load, while the archive copies into a node as it is. Archives of
 * the same image under other IDs are removed, so a rebuilt image leaves no stale export behind.
 */
export async function cachedImageArchive(images: ImageStore, cache: ArtifactCache, name: string, ref: string): Promise<string> {
  const info = await images.inspect(ref);
  if (!info) throw new UserError(`image ${ref} is not in the host's container engine`, "`kubeyard artifacts fetch --addons` builds it.");
  const entry = archiveEntry(name, info.id);
  const source: ArtifactSource = info.labels[LABEL_BUILT_FROM] === "source" ? "source" : "release";
  const cached = await cache.ensure({ ...entry, source, origin: ref }, (dir) =>
    writeGzipArchive(images, cache, ref, path.join(dir, ARCHIVE_FILE)),
  );
  for (const old of await cache.list()) {
    if (old.name === entry.name && old.version !== entry.version) await cache.remove(old);
  }
  return path.join(cached.dir, ARCHIVE_FILE);
}

/**
 * Writes `ref` as a `docker save` archive whose layers are gzip-compressed, the form a registry
 * serves them in. `docker save` writes layers uncompressed; compressed, the Traefik image is a
 * third of the bytes to copy into a node and for containerd to write there, and containerd tells a
 * layer's compression from its first bytes and unpacks it (with pigz, which nodes have) faster than
 * it stores the uncompressed bytes: measured, its import took 2.3 s instead of 3.7 s.
 */
async function writeGzipArchive(images: ImageStore, cache: ArtifactCache, ref: string, file: string): Promise<void> {
  const work = await cache.tempDir();
  try {
    const saved = path.join(work, "saved");
    const out = path.join(work, "out");
    await fs.mkdir(saved);
    await fs.mkdir(out);
    await pipeline(await images.archive([ref]), tar.x({ cwd: saved }));
    // Both the classic and the OCI-layout `docker save` formats list the image in manifest.json.
    const [image] = JSON.parse(await fs.readFile(path.join(saved, "manifest.json"), "utf8")) as { Config: string; Layers: string[] }[];
    if (!image) throw new Error(`docker save of ${ref} holds no image`);
    const layers = image.Layers.map((_, i) => `layer-${i}.tar.gz`);
    for (const [i, layer] of image.Layers.entries()) {
      await pipeline(
        createReadStream(path.join(saved, layer)),
        createGzip({ level: constants.Z_BEST_SPEED }),
        createWriteStream(path.join(out, layers[i]!)),
      );
    }
    await fs.copyFile(path.join(saved, image.Config), path.join(out, "config.json"));
    await fs.writeFile(path.join(out, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: [ref], Layers: layers }]));
    await tar.c({ cwd: out, file, portable: true }, ["manifest.json", "config.json", ...layers]);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
