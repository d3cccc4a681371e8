import { execa } from "execa";
import { mkdtempSync, readdirSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { checkGo, GoMissingError } from "../../src/artifacts/go-toolchain.js";
import { obtainBinaries } from "../../src/artifacts/obtain.js";
import { humanDuration } from "../../src/util/progress.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";

// Builds real artifacts from their Go modules into throwaway caches (Go's own build cache keeps
// this to seconds after the first run). The CNI plugins are the smallest module that exercises it.
const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
const dirs: string[] = [];
const tempCache = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "kubeyard-cache-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const helper = path.resolve("test/helpers/build-artifact.mjs");

describe("source builds", () => {
  it("stamps the real version into what it builds", async () => {
    const cache = new ArtifactCache(tempCache());
    const [cni] = await obtainBinaries(["cni-plugins"], v, { cache, source: "source" });
    expect(cni!.source).toBe("source");
    expect(cni!.files).toEqual(expect.arrayContaining(["bridge", "host-local", "loopback", "portmap"]));
    const out = await execa(path.join(cni!.dir, "bridge"), ["--version"], { reject: false, all: true });
    expect(String(out.all)).toContain(`v${v.cniPlugins}`);
  });

  it("says where a build's log is and, the next time, how long the last build took", async () => {
    const cache = new ArtifactCache(tempCache());
    const kept = async () => {
      const lines: string[] = [];
      await obtainBinaries(["cni-plugins"], v, { cache, source: "source", onStep: (l, o) => o?.keep && lines.push(l) });
      return lines;
    };
    const log = cache.logPath("cni-plugins", v.cniPlugins, "source");
    const first = await kept();
    expect(first).toEqual([`build from github.com/containernetworking/plugins@v${v.cniPlugins}; log: ${log}`]);
    expect(existsSync(log)).toBe(true);
    const built = (await cache.get("cni-plugins", v.cniPlugins, "source"))!;
    const seconds = (await cache.lastSeconds("cni-plugins", "source"))!;
    expect(seconds).toBeGreaterThanOrEqual(0);
    // Found in the cache: nothing to say.
    expect(await kept()).toEqual([]);
    // Removed (as prune does): the next build still knows how long the last one took.
    await cache.remove(built);
    const second = await kept();
    expect(second).toEqual([
      `build from github.com/containernetworking/plugins@v${v.cniPlugins}, ${humanDuration(seconds * 1000)} last time; log: ${log}`,
    ]);
  });

  it("falls back from unreachable release downloads to a source build, saying so once", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    process.env.KUBEYARD_RELEASE_BASE_URL = `http://127.0.0.1:${closed}`;
    try {
      const cache = new ArtifactCache(tempCache());
      const warnings: string[] = [];
      const got = await obtainBinaries(["cni-plugins", "runc"], v, { cache, source: "auto", warn: (w) => warnings.push(w) });
      expect(got.map((a) => `${a.name}:${a.source}`)).toEqual(["cni-plugins:source", "runc:source"]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot be reached.*building from Go modules/);
    } finally {
      delete process.env.KUBEYARD_RELEASE_BASE_URL;
    }
  });

  it("says clearly when Go is missing or too old", async () => {
    const noGo = { ...process.env, PATH: "/nonexistent" };
    await expect(checkGo("example.com/m@v1", "1.26.0", noGo)).rejects.toThrow(GoMissingError);
    await expect(checkGo("example.com/m@v1", "1.26.0", noGo)).rejects.toThrow(
      "Go is not on the PATH, and building example.com/m@v1 from source needs it",
    );
    await expect(checkGo("example.com/m@v1", "99.0.0")).rejects.toThrow(/too old to build example\.com\/m@v1; 99\.0\.0 or newer/);
  });

  it("two processes building the same artifact share one build and one cache entry", async () => {
    const root = tempCache();
    const env = { ...process.env, KUBEYARD_CACHE_DIR: root };
    const [a, b] = await Promise.all([
      execa("node", [helper, "cni-plugins", DEFAULT_KUBERNETES_VERSION], { env }),
      execa("node", [helper, "cni-plugins", DEFAULT_KUBERNETES_VERSION], { env }),
    ]);
    expect(a.stdout.trim()).toBe(b.stdout.trim());
    const entries = readdirSync(path.join(root, "artifacts", "cni-plugins"));
    expect(entries).toEqual([`${v.cniPlugins}-source`]);
    // Exactly one of them compiled; the other found the finished entry after the lock.
    const compiled = [a.stderr, b.stderr].filter((e) => e.includes("step: compile")).length;
    expect(compiled).toBe(1);
  });

  it("a build killed midway leaves no entry, and prune clears what it left", async () => {
    const root = tempCache();
    const env = { ...process.env, KUBEYARD_CACHE_DIR: root };
    const child = execa("node", [helper, "cni-plugins", DEFAULT_KUBERNETES_VERSION], { env, reject: false });
    await new Promise<void>((resolve) => {
      child.stderr!.on("data", (d: Buffer) => {
        if (d.toString().includes("step: compile")) resolve();
      });
    });
    child.kill("SIGKILL");
    await child;
    const cache = new ArtifactCache(root);
    expect(await cache.get("cni-plugins", v.cniPlugins, "source")).toBeUndefined();
    expect(await cache.list()).toEqual([]);
    await cache.removeStaleTemp(0);
    expect(existsSync(path.join(root, "tmp")) ? readdirSync(path.join(root, "tmp")) : []).toEqual([]);
  });
});
