import { promises as fs } from "node:fs";
import path from "node:path";
import * as tar from "tar";
import type { ImageStore } from "../drivers/types.js";
import { replaceFile } from "../util/atomic-write.js";
import { UserError } from "../util/errors.js";
import type { ProgressLine } from "../util/progress.js";
import { findVersion } from "../versions/versions.js";
import type { ArtifactCache, ArtifactMeta, CachedArtifact } from "./cache.js";
import { digestTree, treeProblems, type FileDigest } from "./tree-digest.js";

/**
 * An air-gap bundle: one tar holding what clusters of one Kubernetes version need, so a machine
 * without internet or Go starts them at once. Its first member is the manifest; every other member's
 * size and sha256 are in it, so an import checks everything before it changes anything.
 */
const MANIFEST = "kubeyard-bundle.json";
const IMAGES = "images.tar";
const ENTRIES = "entries";
const FORMAT = 1;

export interface BundleManifest {
  format: typeof FORMAT;
  kubernetesVersion: string;
  createdAt: string;
  /** The engine images in images.tar, by tag. */
  images: string[];
  /** kubeyard cache entries, each under entries/NAME/VERSION-SOURCE/. */
  entries: ArtifactMeta[];
  /** Every other member: path -> size and sha256. */
  files: Record<string, FileDigest>;
}

export interface BundleContents {
  kubernetesVersion: string;
  images: string[];
  entries: CachedArtifact[];
}

/**
 * Writes the bundle to `file`: the images saved from the engine and the cache entries linked (not
 * copied) into a staging folder in the cache, checksummed, then packed into a temp file beside
 * `file` and renamed onto it, so `file` is either absent, as it was, or complete.
 */
export async function writeBundle(
  images: ImageStore,
  cache: ArtifactCache,
  contents: BundleContents,
  file: string,
  onStep: ProgressLine = () => undefined,
): Promise<BundleManifest> {
  const staging = await cache.tempDir();
  try {
    onStep(`save ${contents.images.length} images from the engine`);
    await images.save(contents.images, path.join(staging, IMAGES));
    for (const e of contents.entries) {
      const into = path.join(staging, entryPath(e));
      await fs.mkdir(into, { recursive: true });
      for (const f of await fs.readdir(e.dir)) await fs.link(path.join(e.dir, f), path.join(into, f));
    }
    onStep("checksums");
    const files: BundleManifest["files"] = await digestTree(staging);
    const members = Object.keys(files);
    const manifest: BundleManifest = {
      format: FORMAT,
      kubernetesVersion: contents.kubernetesVersion,
      createdAt: new Date().toISOString(),
      images: contents.images,
      entries: contents.entries.map(({ name, version, source, files: f, createdAt, origin }) => ({
        name,
        version,
        source,
        files: f,
        createdAt,
        origin,
      })),
      files,
    };
    await fs.writeFile(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    onStep(`write ${file}`);
    await replaceFile(file, (temp) => tar.c({ file: temp, cwd: staging, portable: true }, [MANIFEST, ...members]));
    return manifest;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/**
 * Unpacks `file` into a folder in the cache and checks it: a known format, a supported Kubernetes
 * version, and every member present with its recorded size and sha256, nothing else. Nothing outside
 * that folder changes; the caller removes it.
 */
export async function unpackBundle(
  cache: ArtifactCache,
  file: string,
  onStep: ProgressLine = () => undefined,
): Promise<{ dir: string; manifest: BundleManifest }> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) throw new UserError(`${file} is not a file`, "Give the path of a bundle `kubeyard artifacts export` wrote.");
  const dir = await cache.tempDir();
  try {
    onStep(`unpack ${file}`);
    await tar.x({ file, cwd: dir, strict: true }).catch((err: Error) => {
      throw new UserError(
        `${file} is not a kubeyard bundle: ${err.message}`,
        "Give the path of a bundle `kubeyard artifacts export` wrote.",
      );
    });
    const manifest = await readManifest(dir, file);
    onStep(`verify ${Object.keys(manifest.files).length} files`);
    const problems = await treeProblems(dir, manifest.files, [MANIFEST]);
    if (problems.length) throw damaged(file, problems);
    return { dir, manifest };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The cache entries of an unpacked bundle, put into the cache; those already there are kept. Returns how many were added. */
export async function installEntries(cache: ArtifactCache, dir: string, manifest: BundleManifest): Promise<number> {
  let added = 0;
  for (const e of manifest.entries) {
    if (await cache.get(e.name, e.version, e.source)) continue;
    const from = path.join(dir, entryPath(e));
    await cache.ensure(
      { name: e.name, version: e.version, source: e.source, origin: e.origin },
      async (tmp) => {
        for (const f of e.files) await fs.rename(path.join(from, f), path.join(tmp, f));
      },
      { copyOf: e },
    );
    added++;
  }
  return added;
}

/** The images archive of an unpacked bundle. */
export function bundleImages(dir: string): string {
  return path.join(dir, IMAGES);
}

function entryPath(e: { name: string; version: string; source: string }): string {
  return path.posix.join(ENTRIES, e.name, `${e.version}-${e.source}`);
}

async function readManifest(dir: string, file: string): Promise<BundleManifest> {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), "utf8")) as BundleManifest;
  } catch {
    throw new UserError(`${file} is not a kubeyard bundle: it has no readable ${MANIFEST}`);
  }
  if (manifest.format !== FORMAT) {
    throw new UserError(`${file} is a bundle of format ${String(manifest.format)}; this kubeyard reads format ${FORMAT}`);
  }
  if (!findVersion(manifest.kubernetesVersion)) {
    throw new UserError(`${file} holds Kubernetes ${manifest.kubernetesVersion}, which this kubeyard does not support`);
  }
  return manifest;
}

function damaged(file: string, problems: string[]): UserError {
  return new UserError(`${file} is damaged: ${problems.join("; ")}; nothing was imported`, "Copy or export the bundle again.");
}
