import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { digest } from "../../src/artifacts/checksum.js";
import { ChecksumMismatchError, NetworkUnreachableError, downloadVerified } from "../../src/artifacts/download.js";
import { RELEASE_BASE_URL_ENV, fetchReleaseBinaries, type ReleaseProgress } from "../../src/artifacts/release.js";
import { fetchReleaseArtifact } from "../../src/artifacts/release-artifact.js";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { SUPPORTED } from "../../src/versions/versions.js";
import { UserError } from "../../src/util/errors.js";
import { buildFakeRelease, closedPort, startReleaseServer, type FakeRelease, type ReleaseServer } from "../helpers/release-server.js";

const versions = SUPPORTED[0]!;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let tmp: string;
let fake: FakeRelease;
let server: ReleaseServer;
let cache: string;
let dest: string;

/** Every path under `dir`, relative and sorted, with file contents hashed so changes show. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(e.parentPath, e.name);
    const rel = path.relative(dir, full);
    out.push(e.isFile() ? `${rel} ${sha256(await readFile(full))}` : `${rel}/`);
  }
  return out.sort();
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "kubeyard-release-"));
  fake = await buildFakeRelease(path.join(tmp, "www"), versions, "amd64");
  server = await startReleaseServer(fake.root);
  process.env[RELEASE_BASE_URL_ENV] = server.url;
});

afterAll(async () => {
  delete process.env[RELEASE_BASE_URL_ENV];
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(async (ctx) => {
  server.reset();
  cache = path.join(tmp, "cache", ctx.task.id);
  dest = path.join(cache, "bin", `v${versions.kubernetes}-linux-amd64`);
  // Something already cached for another version, which no run may disturb.
  await mkdir(path.join(cache, "bin", "v1.36.4-linux-amd64"), { recursive: true });
  await writeFile(path.join(cache, "bin", "v1.36.4-linux-amd64", "kubelet"), "previously cached kubelet\n");
});

const fetchAll = (onProgress?: (p: ReleaseProgress) => void) =>
  fetchReleaseBinaries(versions, dest, { arch: "amd64", onProgress, http: { backoffMs: 50 } });

async function expectAllCorrect(result: Record<string, string>) {
  expect(Object.keys(result).sort()).toEqual(Object.keys(fake.binaries).sort());
  for (const [name, bytes] of Object.entries(fake.binaries)) {
    expect(result[name]).toBe(path.join(dest, name));
    expect(sha256(await readFile(result[name]!)), name).toBe(sha256(bytes));
    expect((await stat(result[name]!)).mode & 0o777, name).toBe(0o755);
  }
  // Only the finished binaries: no archives, temp files or extraction leftovers.
  expect((await readdir(dest)).sort()).toEqual(Object.keys(fake.binaries).sort());
  expect((await readdir(path.join(cache, "bin"))).sort()).toEqual([path.basename(dest), "v1.36.4-linux-amd64"].sort());
}

describe("fetchReleaseBinaries against a local release server", () => {
  it("downloads, verifies and extracts every binary, then reuses the completed directory", async () => {
    const progress: ReleaseProgress[] = [];
    const result = await fetchAll((p) => progress.push(p));
    await expectAllCorrect(result);
    expect(result.bandwidth).toBeUndefined(); // absent from this CNI tarball, so skipped
    expect(result.etcdutl).toBeUndefined(); // in the etcd tarball, but not wanted

    const kubelet = progress.filter((p) => p.file === "kubelet");
    expect(kubelet.at(-1)).toMatchObject({ received: fake.binaries.kubelet!.length, total: fake.binaries.kubelet!.length });
    // GitHub-style paths went through the redirect, as real release downloads do.
    expect(server.requests.some((r) => r.path.startsWith("/objects/etcd-io/etcd/releases/download/"))).toBe(true);

    server.reset();
    expect(await fetchAll()).toEqual(result);
    expect(server.requests).toEqual([]);
  });

  it("rejects a wrong published checksum and leaves the cache exactly as it was", async () => {
    const sumFile = path.join(fake.root, `${fake.k8sPaths["kube-scheduler"]}.sha256`);
    const good = await readFile(sumFile, "utf8");
    const wrong = sha256(Buffer.from("not the scheduler"));
    await writeFile(sumFile, `${wrong}\n`);
    const before = await tree(cache);
    try {
      const err = await fetchAll().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ChecksumMismatchError);
      expect(err).toBeInstanceOf(UserError);
      const msg = (err as Error).message;
      expect(msg).toContain(`${server.url}${fake.k8sPaths["kube-scheduler"]}`);
      expect(msg).toContain(wrong);
      expect(msg).toContain(sha256(fake.binaries["kube-scheduler"]!));
    } finally {
      await writeFile(sumFile, good);
    }
    expect(await tree(cache)).toEqual(before);
  });

  it("resumes a connection cut mid-file with a Range request", async () => {
    const kubelet = fake.k8sPaths.kubelet!;
    server.cutOnce(kubelet, 100_000);
    await expectAllCorrect(await fetchAll());
    const asked = server.requests.filter((r) => r.path === kubelet);
    expect(asked).toHaveLength(2);
    expect(asked[0]!.range).toBeUndefined();
    const start = Number(/^bytes=(\d+)-$/.exec(asked[1]!.range ?? "")?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(100_000);
  });

  it("restarts from zero when the server ignores Range, and still ends with the right bytes", async () => {
    const kubelet = fake.k8sPaths.kubelet!;
    server.ignoreRange = true;
    server.cutOnce(kubelet, 100_000);
    await expectAllCorrect(await fetchAll());
    const asked = server.requests.filter((r) => r.path === kubelet);
    expect(asked).toHaveLength(2);
    expect(asked[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it("fails with NetworkUnreachableError when nothing listens, leaving nothing behind", async () => {
    const before = await tree(cache);
    const port = await closedPort();
    const err = await fetchReleaseBinaries(versions, dest, {
      arch: "amd64",
      baseUrls: { k8s: `http://127.0.0.1:${port}`, github: `http://127.0.0.1:${port}`, crio: `http://127.0.0.1:${port}` },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetworkUnreachableError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect(await tree(cache)).toEqual(before);
  });

  it("removes temp dirs left by a killed run", async () => {
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
    const stale = path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-${deadPid}-0badc0de`);
    await mkdir(path.join(stale, ".archives"), { recursive: true });
    await writeFile(path.join(stale, "kubelet"), "half a kubelet");
    await expectAllCorrect(await fetchAll());
    await expect(stat(stale)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("fetchReleaseArtifact into the artifact cache", () => {
  const bundle = `/artifacts/cri-o.amd64.v${versions.crio}.tar.gz`;

  it("fetches CRI-O's bundle once for both entries it holds, keeping only crio and pinns", async () => {
    const artifacts = new ArtifactCache(cache);
    const pinns = await fetchReleaseArtifact("pinns", versions, artifacts);
    const crio = await artifacts.get("crio", versions.crio, "release");
    expect(pinns.files).toEqual(["pinns"]);
    expect(crio?.files).toEqual(["crio"]);
    expect(sha256(await readFile(path.join(pinns.dir, "pinns")))).toBe(sha256(fake.binaries.pinns!));
    expect(sha256(await readFile(path.join(crio!.dir, "crio")))).toBe(sha256(fake.binaries.crio!));
    expect(server.requests.filter((r) => r.path === bundle)).toHaveLength(1);

    server.reset();
    expect((await fetchReleaseArtifact("crio", versions, artifacts)).dir).toBe(crio!.dir);
    expect(server.requests).toEqual([]);
  });

  it("fetches the bundle again for pinns alone when only crio's entry is left", async () => {
    const artifacts = new ArtifactCache(cache);
    await fetchReleaseArtifact("crio", versions, artifacts);
    const first = await artifacts.get("pinns", versions.crio, "release");
    await rm(first!.dir, { recursive: true });
    server.reset();
    const pinns = await fetchReleaseArtifact("pinns", versions, artifacts);
    expect(pinns.files).toEqual(["pinns"]);
    expect(server.requests.filter((r) => r.path === bundle)).toHaveLength(1);
    expect((await artifacts.get("crio", versions.crio, "release"))?.files).toEqual(["crio"]);
  });
});

describe("downloadVerified", () => {
  it("keeps an existing destination file when the new download does not verify", async () => {
    const file = path.join(cache, "kubectl");
    await writeFile(file, "the old kubectl\n");
    const url = `${server.url}${fake.k8sPaths.kubectl}`;
    const expected = digest("sha512", "ab".repeat(64));
    await expect(downloadVerified({ url, dest: file, digest: expected })).rejects.toThrow(/sha512 mismatch/);
    expect(await readFile(file, "utf8")).toBe("the old kubectl\n");
    expect((await readdir(cache)).filter((n) => n.includes(".part-"))).toEqual([]);

    const good = createHash("sha512").update(fake.binaries.kubectl!).digest("hex");
    await downloadVerified({ url, dest: file, digest: digest("sha512", good) });
    expect(sha256(await readFile(file))).toBe(sha256(fake.binaries.kubectl!));
  });

  it("tries again on 503, then says how many attempts failed and keeps nothing", async () => {
    server.unavailable = true;
    const url = `${server.url}${fake.k8sPaths.kubectl}`;
    const err = await downloadVerified({
      url,
      dest: path.join(cache, "kubectl"),
      digest: digest("sha256", "0".repeat(64)),
      retries: 2,
      backoffMs: 100,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(NetworkUnreachableError);
    expect((err as Error).message).toMatch(/failed after 3 attempts: HTTP 503/);
    expect(server.requests.filter((r) => r.path === fake.k8sPaths.kubectl)).toHaveLength(3);
    expect((await readdir(cache)).filter((n) => n.includes(".part-"))).toEqual([]);
  });

  it("says what was missing when the server answers 404, without retrying", async () => {
    const url = `${server.url}/release/v0.0.0/bin/linux/amd64/kubelet`;
    const err = await downloadVerified({ url, dest: path.join(cache, "x"), digest: digest("sha256", "0".repeat(64)) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(NetworkUnreachableError);
    expect((err as Error).message).toContain("404");
    expect(server.requests.filter((r) => r.path.endsWith("/v0.0.0/bin/linux/amd64/kubelet"))).toHaveLength(1);
  });
});
