import { createHash } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { ImageInfo, ImageStore, ImageSummary, Mount, RunResult } from "../../src/drivers/types.js";

/** One image operation, in the order they happened, for tests that check what was built or pulled. */
export type ImageCall =
  | { op: "build"; tag: string; contextDir: string; labels: Record<string, string> }
  | { op: "pull"; ref: string }
  | { op: "importRootfs"; tag: string; rootfs: string }
  | { op: "commitRun"; image: string; cmd: string[]; tag: string; mounts: Mount[] }
  | { op: "remove"; ref: string };

interface FakeImage {
  id: string;
  labels: Record<string, string>;
  size: number;
}

/**
 * An engine's images in memory: a set of tags, each with an ID and labels. Building, pulling,
 * importing and committing add a tag (under a new ID); archives are real `docker save`-shaped tars
 * (a manifest and a config, no layers), so code that unpacks them runs as it would on an engine.
 */
export class FakeImages implements ImageStore {
  readonly calls: ImageCall[] = [];
  /** Refs whose pull fails, as it does where no registry answers; by default every pull works. */
  readonly unpullable = new Set<string>();
  /** Answers a commitRun (default: exit 0); the commit happens only on exit 0, as with the engine. */
  onCommitRun: (image: string, cmd: string[]) => RunResult = () => ({ exitCode: 0, output: "" });
  /**
   * The name an archive gives a ref: Docker writes the ref as asked; Podman writes the name it resolved a
   * short name to (`localhost/myapp:dev` for an image it built as `myapp:dev`).
   */
  archiveName: (ref: string) => string = (ref) => ref;
  /** Asked before removing an image: a tag that nodes run from cannot be removed. */
  inUse: (ref: string) => boolean = () => false;
  private readonly byTag = new Map<string, FakeImage>();
  private serial = 0;

  /** Puts an image in the store, as a test's starting point (a node image that exists, say). */
  add(tag: string, labels: Record<string, string> = {}): ImageInfo {
    const image = { id: `sha256:${createHash("sha256").update(`${tag}#${++this.serial}`).digest("hex")}`, labels, size: 1000 };
    this.byTag.set(tag, image);
    return { ...image };
  }

  has(tag: string): boolean {
    return this.byTag.has(tag);
  }

  /** The tags there are, sorted. */
  tags(): string[] {
    return [...this.byTag.keys()].sort();
  }

  async inspect(ref: string): Promise<ImageInfo | undefined> {
    const image = this.find(ref);
    return image ? { id: image.id, labels: { ...image.labels }, size: image.size } : undefined;
  }

  async list(opts: { reference?: string } = {}): Promise<ImageSummary[]> {
    const byId = new Map<string, ImageSummary>();
    for (const [tag, image] of this.byTag) {
      if (opts.reference && !tag.startsWith(`${opts.reference}:`)) continue;
      const entry = byId.get(image.id) ?? { id: image.id, labels: { ...image.labels }, size: image.size, tags: [], createdMs: 0 };
      entry.tags.push(tag);
      byId.set(image.id, entry);
    }
    return [...byId.values()];
  }

  async build(contextDir: string, tag: string, opts: { labels?: Record<string, string>; log?: string } = {}): Promise<void> {
    await fs.access(path.join(contextDir, "Dockerfile"));
    this.calls.push({ op: "build", tag, contextDir, labels: opts.labels ?? {} });
    this.add(tag, opts.labels ?? {});
  }

  async pull(ref: string): Promise<void> {
    this.calls.push({ op: "pull", ref });
    if (this.unpullable.has(ref)) throw new Error(`pull access denied for ${ref}`);
    this.add(ref);
  }

  async importRootfs(rootfs: string, tag: string): Promise<void> {
    this.calls.push({ op: "importRootfs", tag, rootfs });
    this.add(tag);
  }

  async archive(refs: string[]): Promise<NodeJS.ReadableStream> {
    const missing = refs.filter((r) => !this.find(r));
    if (missing.length) throw new Error(`reference does not exist: ${missing.join(", ")}`);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fake-save-"));
    // As Docker's classic save names them: each image's config file after its digest (the image ID).
    const configs = [...new Set(refs.map((r) => `${this.find(r)!.id.replace(/^sha256:/, "")}.json`))];
    for (const c of configs) await fs.writeFile(path.join(dir, c), JSON.stringify({ config: {} }));
    const manifest = refs.map((r) => ({
      Config: `${this.find(r)!.id.replace(/^sha256:/, "")}.json`,
      RepoTags: [this.archiveName(r)],
      Layers: [],
    }));
    await fs.writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    const stream = tar.c({ cwd: dir, portable: true }, ["manifest.json", ...configs]);
    stream.on("end", () => void fs.rm(dir, { recursive: true, force: true }));
    return stream as unknown as NodeJS.ReadableStream;
  }

  async save(refs: string[], file: string): Promise<void> {
    await pipeline(await this.archive(refs), createWriteStream(file));
  }

  async load(file: string): Promise<string[]> {
    let manifest = "";
    await tar.t({
      file,
      onReadEntry: (e) => (e.path === "manifest.json" ? e.on("data", (c: Buffer) => (manifest += String(c))) : e.resume()),
    });
    const tags = (JSON.parse(manifest) as { RepoTags: string[] }[]).flatMap((m) => m.RepoTags);
    for (const t of tags) if (!this.find(t)) this.add(t);
    return tags;
  }

  async remove(ref: string): Promise<void> {
    const tags = [...this.byTag].filter(([tag, image]) => tag === ref || image.id === ref).map(([tag]) => tag);
    if (!tags.length) throw new Error(`No such image: ${ref}`);
    if (tags.some((t) => this.inUse(t))) throw new Error(`conflict: unable to remove ${ref}: image is being used by a container`);
    this.calls.push({ op: "remove", ref });
    for (const t of tags) this.byTag.delete(t);
  }

  async removeStoppedRuns(): Promise<string[]> {
    return [];
  }

  async commitRun(image: string, cmd: string[], opts: { mounts: Mount[]; tag: string; changes: string[] }): Promise<RunResult> {
    const from = this.find(image);
    if (!from) throw new Error(`No such image: ${image}`);
    this.calls.push({ op: "commitRun", image, cmd, tag: opts.tag, mounts: opts.mounts });
    const result = this.onCommitRun(image, cmd);
    if (result.exitCode === 0) {
      const labels = { ...from.labels };
      for (const change of opts.changes) {
        const m = /^LABEL (\S+?)=(.*)$/.exec(change);
        if (m) labels[m[1]!] = m[2]!;
      }
      this.add(opts.tag, labels);
    }
    return result;
  }

  private find(ref: string): FakeImage | undefined {
    return this.byTag.get(ref) ?? [...this.byTag.values()].find((i) => i.id === ref);
  }
}
