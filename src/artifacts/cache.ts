import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";
import { writeFileAtomic } from "../util/atomic-write.js";
import { cacheDir } from "../util/paths.js";

export type ArtifactSource = "release" | "source";

/** What an entry in the cache is: written last, so its presence means the entry is complete. */
export interface ArtifactMeta {
  name: string;
  version: string;
  source: ArtifactSource;
  files: string[];
  createdAt: string;
  /** Free-form provenance, e.g. the Go module and version it was built from. */
  origin: string;
}

export interface CachedArtifact extends ArtifactMeta {
  dir: string;
  bytes: number;
}

const META = "kubeyard-artifact.json";
const TIMINGS = "build-times.json";

export class ArtifactCache {
  constructor(readonly root: string = cacheDir()) {}

  entryDir(name: string, version: string, source: ArtifactSource): string {
    return path.join(this.root, "artifacts", name, `${version}-${source}`);
  }

  logPath(name: string, version: string, source: ArtifactSource): string {
    return path.join(this.root, "logs", `${name}-${version}-${source}.log`);
  }

  async get(name: string, version: string, source: ArtifactSource): Promise<CachedArtifact | undefined> {
    const dir = this.entryDir(name, version, source);
    const meta = await readMeta(dir);
    return meta && { ...meta, dir, bytes: await dirBytes(dir) };
  }

  /**
   * Returns the cached entry, or runs `produce` to fill a fresh temp dir and publishes it with a
   * rename. A lock per entry lets two kubeyard processes share the work: the second waits and then
   * finds the entry. A killed producer leaves only a temp dir, which the next `produce` or prune removes.
   */
  async ensure(
    key: { name: string; version: string; source: ArtifactSource; origin: string },
    produce: (tmpDir: string) => Promise<void>,
    /** The entry is a copy of this one (from a bundle): it keeps its creation time and was not made here. */
    opts: { copyOf?: ArtifactMeta } = {},
  ): Promise<CachedArtifact> {
    const existing = await this.get(key.name, key.version, key.source);
    if (existing) return existing;
    const release = await this.lock(`${key.name}-${key.version}-${key.source}`);
    try {
      const again = await this.get(key.name, key.version, key.source);
      if (again) return again;
      const tmp = await this.tempDir();
      const started = Date.now();
      try {
        await produce(tmp);
        const files = (await fs.readdir(tmp)).sort();
        // A copy's time is no estimate of a build; its creation time is part of what names a node image's inputs.
        if (!opts.copyOf) await this.recordSeconds(key.name, key.source, (Date.now() - started) / 1000);
        const meta: ArtifactMeta = { ...key, files, createdAt: opts.copyOf?.createdAt ?? new Date().toISOString() };
        await fs.writeFile(path.join(tmp, META), JSON.stringify(meta, null, 2) + "\n");
        const dest = this.entryDir(key.name, key.version, key.source);
        await fs.mkdir(path.dirname(dest), { recursive: true });
        await fs.rm(dest, { recursive: true, force: true });
        await fs.rename(tmp, dest);
      } finally {
        await fs.rm(tmp, { recursive: true, force: true });
      }
      return (await this.get(key.name, key.version, key.source))!;
    } finally {
      await release();
    }
  }

  /**
   * How long making `name` from `source` took the last time (any version), kept apart from the
   * entries so that pruning them does not lose it: the next build shows it as an estimate.
   */
  async lastSeconds(name: string, source: ArtifactSource): Promise<number | undefined> {
    return (await this.timings())[`${name}-${source}`];
  }

  private async recordSeconds(name: string, source: ArtifactSource, seconds: number): Promise<void> {
    // Two processes recording at once may lose one figure: it is only an estimate.
    const timings = { ...(await this.timings()), [`${name}-${source}`]: Math.round(seconds) };
    await writeFileAtomic(path.join(this.root, TIMINGS), JSON.stringify(timings, null, 2) + "\n");
  }

  private async timings(): Promise<Record<string, number>> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.root, TIMINGS), "utf8")) as Record<string, number>;
    } catch {
      return {};
    }
  }

  async list(): Promise<CachedArtifact[]> {
    const out: CachedArtifact[] = [];
    const base = path.join(this.root, "artifacts");
    for (const name of await readdirOrEmpty(base)) {
      for (const entry of await readdirOrEmpty(path.join(base, name))) {
        const dir = path.join(base, name, entry);
        const meta = await readMeta(dir);
        if (meta) out.push({ ...meta, dir, bytes: await dirBytes(dir) });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  }

  async remove(entry: CachedArtifact): Promise<void> {
    const release = await this.lock(`${entry.name}-${entry.version}-${entry.source}`);
    try {
      await fs.rm(entry.dir, { recursive: true, force: true });
    } finally {
      await release();
    }
  }

  /** Removes temp dirs left by killed runs; only ones no live process holds (older than `olderThanMs`). */
  async removeStaleTemp(olderThanMs = 6 * 3600_000): Promise<number> {
    const base = path.join(this.root, "tmp");
    let removed = 0;
    for (const name of await readdirOrEmpty(base)) {
      const p = path.join(base, name);
      const st = await fs.stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > olderThanMs) {
        await fs.rm(p, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  async tempDir(): Promise<string> {
    const dir = path.join(this.root, "tmp", `${process.pid}-${randomBytes(4).toString("hex")}`);
    await fs.mkdir(dir, { recursive: true });
    return dir;
  }

  /** A cross-process lock; proper-lockfile refreshes it while held so a crashed holder's lock goes stale. */
  async lock(key: string): Promise<() => Promise<void>> {
    const dir = path.join(this.root, "locks");
    await fs.mkdir(dir, { recursive: true });
    const target = path.join(dir, key);
    await fs.writeFile(target, "", { flag: "a" });
    return lockfile.lock(target, {
      stale: 30_000,
      update: 5_000,
      retries: { retries: 100_000, factor: 1, minTimeout: 500, maxTimeout: 500 },
    });
  }
}

async function readMeta(dir: string): Promise<ArtifactMeta | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, META), "utf8")) as ArtifactMeta;
  } catch {
    return undefined;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => [] as string[]);
}

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}
