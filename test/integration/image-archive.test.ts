import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tar from "tar";
import { afterAll, describe, expect, it } from "vitest";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { cachedImageArchive } from "../../src/artifacts/image-archive.js";
import { pruneArtifacts } from "../../src/artifacts/inventory.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs } from "../../src/versions/versions.js";
import { createDriver } from "../../src/drivers/index.js";

const { images } = await createDriver();
const root = mkdtempSync(path.join(os.tmpdir(), "kubeyard-archive-"));
const cache = new ArtifactCache(root);
const tag = `kubeyard-test/archive:${Math.random().toString(36).slice(2, 9)}`;

afterAll(async () => {
  await images.remove(tag).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

let builds = 0;

/** A small image of its own (a file on the nodes' busybox image), with an ID no other image has. */
async function uniqueImage(): Promise<string> {
  const context = path.join(root, `context-${++builds}`);
  mkdirSync(context);
  const busybox = imageRefs(findVersion(DEFAULT_KUBERNETES_VERSION)!).busybox;
  writeFileSync(path.join(context, "Dockerfile"), `FROM ${busybox}\nRUN echo ${tag} ${builds} > /which\n`);
  await images.build(context, tag);
  return (await images.inspect(tag))!.id;
}

async function archiveEntries(): Promise<string[]> {
  return (await cache.list()).filter((a) => a.name === "test-image-archive").map((a) => a.version);
}

describe("image archives in the cache", () => {
  it("hold the image with gzip-compressed layers, keyed by the image's ID", async () => {
    const id = await uniqueImage();
    const file = await cachedImageArchive(images, cache, "testImage", tag);
    expect(await archiveEntries()).toEqual([id.replace("sha256:", "").slice(0, 12)]);
    const names: string[] = [];
    await tar.t({ file, onReadEntry: (e) => names.push(e.path) });
    const layers = names.filter((n) => n.startsWith("layer-"));
    expect(layers.length).toBeGreaterThan(0);
    const out = path.join(root, "unpacked");
    mkdirSync(out);
    await tar.x({ file, cwd: out });
    // gzip's magic bytes: containerd tells the compression from them.
    for (const l of layers) expect([...readFileSync(path.join(out, l)).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8"))[0].RepoTags).toEqual([tag]);
  });

  it("survive a prune while their image is in the engine, and go with the next prune once it is not", async () => {
    await pruneArtifacts(cache, images, { all: false });
    expect(await archiveEntries()).toHaveLength(1);
    await images.remove(tag);
    await pruneArtifacts(cache, images, { all: false });
    expect(await archiveEntries()).toEqual([]);
  });

  it("are replaced, not added to, when the image is rebuilt", async () => {
    const first = await uniqueImage();
    await cachedImageArchive(images, cache, "testImage", tag);
    await images.remove(tag);
    const second = await uniqueImage();
    expect(second).not.toBe(first);
    await cachedImageArchive(images, cache, "testImage", tag);
    expect(await archiveEntries()).toEqual([second.replace("sha256:", "").slice(0, 12)]);
  });
});
