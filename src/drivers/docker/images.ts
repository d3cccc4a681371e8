import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import * as tar from "tar";
import { followProgress } from "./engine.js";

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  size: number;
}

export async function inspectImage(docker: Docker, ref: string): Promise<ImageInfo | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return { id: info.Id, labels: info.Config?.Labels ?? {}, size: info.Size };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** Builds `contextDir` (which holds a Dockerfile) into `tag`. The log gets the builder's output. */
export async function buildImage(
  docker: Docker,
  contextDir: string,
  tag: string,
  opts: { labels?: Record<string, string>; log?: string } = {},
): Promise<void> {
  const files = await fs.readdir(contextDir);
  const stream = tar.c({ cwd: contextDir, portable: true }, files);
  const res = await docker.buildImage(stream as unknown as NodeJS.ReadableStream, {
    t: tag,
    labels: opts.labels ?? {},
    rm: true,
    forcerm: true,
  });
  const lines: string[] = [];
  try {
    await followProgress(docker, res, (l) => lines.push(l));
  } finally {
    if (opts.log) {
      await fs.mkdir(path.dirname(opts.log), { recursive: true });
      await fs.appendFile(opts.log, `\n# docker build ${tag}\n${lines.join("\n")}\n`);
    }
  }
}

/** Turns a root filesystem directory into an image, the way `tar -C dir -c . | docker import -` does. */
export async function importRootfs(docker: Docker, rootfs: string, repo: string, tag: string, changes: string[] = []) {
  // The system tar keeps device nodes, xattrs and hard links of a debootstrapped tree exactly.
  const child = execa("tar", ["--numeric-owner", "--xattrs", "-C", rootfs, "-c", "."], { buffer: false, stdout: "pipe" });
  const res = await docker.importImage(child.stdout!, { repo, tag, changes });
  await Promise.all([followProgress(docker, res), child]);
}

export async function pullImage(docker: Docker, ref: string, onLine?: (l: string) => void): Promise<void> {
  const res = await docker.pull(ref);
  await followProgress(docker, res, onLine);
}

/** Writes a `docker save` archive of the images (one archive, layers shared). */
export async function saveImages(docker: Docker, refs: string[], file: string): Promise<void> {
  await pipeline(await imageArchive(docker, refs), createWriteStream(file));
}

/** `docker save` of several images as one tar stream, read while the engine writes it. */
export async function imageArchive(docker: Docker, refs: string[]): Promise<NodeJS.ReadableStream> {
  // dockerode types lack getImages (GET /images/get?names=...), which saves several images at once.
  const getImages = (docker as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> }).getImages;
  return getImages.call(docker, { names: refs });
}

export async function loadImages(docker: Docker, file: string): Promise<void> {
  const res = await docker.loadImage(createReadStream(file), { quiet: true });
  await followProgress(docker, res);
}
