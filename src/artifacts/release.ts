import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../util/errors.js";
import { parseChecksumFile } from "./checksum.js";
import { downloadVerified, fetchText, type HttpOptions } from "./download.js";
import type { ComponentVersions } from "../versions/versions.js";

export type Arch = "amd64" | "arm64";

/** The hosts official artifacts come from; a mirror replaces any of them with a base serving the same paths. */
export interface ReleaseOrigins {
  /** Serves `/release/v<ver>/bin/linux/<arch>/<bin>`. */
  k8s: string;
  /** Serves `/<owner>/<repo>/releases/download/<tag>/<file>`. */
  github: string;
  /** CRI-O's bucket: serves `/artifacts/cri-o.<arch>.v<ver>.tar.gz`, the static bundles its release notes link. */
  crio: string;
}

export const DEFAULT_ORIGINS: Readonly<ReleaseOrigins> = {
  k8s: "https://dl.k8s.io",
  github: "https://github.com",
  crio: "https://storage.googleapis.com/cri-o",
};

/** Env var that points every origin at one mirror (the tests' local server uses it too). */
export const RELEASE_BASE_URL_ENV = "KUBEYARD_RELEASE_BASE_URL";

/** Defaults, then the env mirror for every origin, then explicit per-origin overrides. */
export function releaseOrigins(overrides: Partial<ReleaseOrigins> = {}, env: NodeJS.ProcessEnv = process.env): ReleaseOrigins {
  const mirror = env[RELEASE_BASE_URL_ENV]?.trim();
  const base: ReleaseOrigins = mirror ? { k8s: mirror, github: mirror, crio: mirror } : { ...DEFAULT_ORIGINS };
  const merged = { ...base, ...overrides };
  const trim = (url: string) => url.replace(/\/+$/, "");
  return { k8s: trim(merged.k8s), github: trim(merged.github), crio: trim(merged.crio) };
}

/** The Kubernetes architecture name of this machine, or undefined where there are no release binaries. */
export function hostArch(): Arch | undefined {
  return process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : undefined;
}

/** A binary installed from an artifact; `member` is its path inside an archive. */
export interface ReleaseBinary {
  name: string;
  member?: string;
  optional?: boolean;
  /** The cache entry it is kept in, when not its artifact's (one CRI-O bundle holds two of kubeyard's artifacts). */
  entry?: string;
}

/** The cache entry a binary of `a` is kept in. */
export function binaryEntry(a: ReleaseArtifact, b: ReleaseBinary): string {
  return b.entry ?? a.entry;
}

/** One file to download, the checksum file that vouches for it, and the binaries it yields. */
export interface ReleaseArtifact {
  /** The name of the cache entry (the artifact, recipes.ts) its binaries are kept in. */
  entry: string;
  /** The upstream file name, which is also the name checksum files list it under. */
  file: string;
  url: string;
  checksumUrl: string;
  archive: boolean;
  binaries: ReleaseBinary[];
}

export const KUBERNETES_BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kube-proxy",
  "kubectl",
] as const;

export const CNI_PLUGINS = ["bridge", "host-local", "loopback", "portmap", "ptp", "bandwidth"] as const;

/** The official release layout for one version set; pure, so the URLs can be checked on their own. */
export function releaseArtifacts(v: ComponentVersions, arch: Arch, origins: ReleaseOrigins = releaseOrigins()): ReleaseArtifact[] {
  const gh = (repo: string, tag: string) => `${origins.github}/${repo}/releases/download/${tag}`;
  const artifacts: ReleaseArtifact[] = KUBERNETES_BINARIES.map((bin) => {
    const url = `${origins.k8s}/release/v${v.kubernetes}/bin/linux/${arch}/${bin}`;
    return { entry: "kubernetes", file: bin, url, checksumUrl: `${url}.sha256`, archive: false, binaries: [{ name: bin }] };
  });

  const etcdDir = gh("etcd-io/etcd", `v${v.etcd}`);
  const etcdBase = `etcd-v${v.etcd}-linux-${arch}`;
  artifacts.push({
    entry: "etcd",
    file: `${etcdBase}.tar.gz`,
    url: `${etcdDir}/${etcdBase}.tar.gz`,
    checksumUrl: `${etcdDir}/SHA256SUMS`,
    archive: true,
    binaries: ["etcd", "etcdctl"].map((name) => ({ name, member: `${etcdBase}/${name}` })),
  });

  const containerdFile = `containerd-${v.containerd}-linux-${arch}.tar.gz`;
  const containerdUrl = `${gh("containerd/containerd", `v${v.containerd}`)}/${containerdFile}`;
  artifacts.push({
    entry: "containerd",
    file: containerdFile,
    url: containerdUrl,
    checksumUrl: `${containerdUrl}.sha256sum`,
    archive: true,
    binaries: ["containerd", "containerd-shim-runc-v2", "ctr"].map((name) => ({ name, member: `bin/${name}` })),
  });

  const runcDir = gh("opencontainers/runc", `v${v.runc}`);
  artifacts.push({
    entry: "runc",
    file: `runc.${arch}`,
    url: `${runcDir}/runc.${arch}`,
    checksumUrl: `${runcDir}/runc.sha256sum`,
    archive: false,
    binaries: [{ name: "runc" }],
  });

  const cniFile = `cni-plugins-linux-${arch}-v${v.cniPlugins}.tgz`;
  const cniUrl = `${gh("containernetworking/plugins", `v${v.cniPlugins}`)}/${cniFile}`;
  artifacts.push({
    entry: "cni-plugins",
    file: cniFile,
    url: cniUrl,
    checksumUrl: `${cniUrl}.sha256`,
    archive: true,
    // Plugin sets change between releases; take whichever of these the tarball has.
    binaries: CNI_PLUGINS.map((name) => ({ name, member: name, optional: true })),
  });

  // CRI-O's bundle also carries conmon, crun, runc and crictl: the node takes those from elsewhere, one of each.
  const crioFile = `cri-o.${arch}.v${v.crio}.tar.gz`;
  const crioUrl = `${origins.crio}/artifacts/${crioFile}`;
  artifacts.push({
    entry: "crio",
    file: crioFile,
    url: crioUrl,
    checksumUrl: `${crioUrl}.sha256sum`,
    archive: true,
    binaries: [
      { name: "crio", member: "cri-o/bin/crio" },
      { name: "pinns", member: "cri-o/bin/pinns", entry: "pinns" },
    ],
  });
  return artifacts;
}

export interface ReleaseProgress {
  /** The upstream file name being downloaded. */
  file: string;
  received: number;
  total: number | undefined;
  /** Artifacts finished so far, and how many there are. */
  done: number;
  count: number;
}

export interface FetchReleaseOptions {
  arch: Arch;
  onProgress?: (p: ReleaseProgress) => void;
  baseUrls?: Partial<ReleaseOrigins>;
  /** Downloads in flight at once. Default 3. */
  concurrency?: number;
  http?: HttpOptions;
  env?: NodeJS.ProcessEnv;
  /** Fetch only the artifacts this accepts (the cache keeps each component as its own entry). */
  select?: (a: ReleaseArtifact) => boolean;
}

/**
 * Downloads and verifies every release binary for `versions` into `destDir` (flat: name -> file)
 * and returns name -> path. The work happens in a temp dir beside `destDir` that is renamed into
 * place only when complete, so `destDir` never exists half-made; an existing complete `destDir`
 * is reused without any download.
 */
export async function fetchReleaseBinaries(
  versions: ComponentVersions,
  destDir: string,
  opts: FetchReleaseOptions,
): Promise<Record<string, string>> {
  const artifacts = releaseArtifacts(versions, opts.arch, releaseOrigins(opts.baseUrls, opts.env)).filter(opts.select ?? (() => true));
  const parent = path.dirname(destDir);
  const base = path.basename(destDir);
  await mkdir(parent, { recursive: true });

  const existing = await installedBinaries(destDir, artifacts);
  if (existing) return existing;
  await removeStaleTempDirs(parent, base);

  const work = path.join(parent, tempName(base));
  const archives = path.join(work, ".archives");
  await mkdir(archives, { recursive: true });
  try {
    await downloadAll(artifacts, work, archives, opts);
    await rm(archives, { recursive: true, force: true });
    return await install(work, destDir, artifacts);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function downloadAll(artifacts: ReleaseArtifact[], work: string, archives: string, opts: FetchReleaseOptions) {
  // One failure stops the rest, so the temp dir is not removed under downloads still writing.
  const abort = new AbortController();
  const signal = opts.http?.signal ? AbortSignal.any([opts.http.signal, abort.signal]) : abort.signal;
  const http: HttpOptions = { ...opts.http, signal };
  const checksumTexts = new Map<string, Promise<string>>();
  const checksumText = (url: string) => {
    let p = checksumTexts.get(url);
    if (!p) checksumTexts.set(url, (p = fetchText(url, http)));
    return p;
  };

  let done = 0;
  const one = async (a: ReleaseArtifact) => {
    const digest = parseChecksumFile(await checksumText(a.checksumUrl), a.file, "sha256", a.checksumUrl);
    const dest = a.archive ? path.join(archives, a.file) : path.join(work, a.binaries[0]!.name);
    await downloadVerified({
      url: a.url,
      dest,
      digest,
      ...http,
      onProgress: (received, total) => opts.onProgress?.({ file: a.file, received, total, done, count: artifacts.length }),
    });
    if (a.archive) await extractBinaries(a, dest, work);
    done++;
  };

  const queue = [...artifacts];
  let firstError: unknown;
  const worker = async () => {
    for (let a = queue.shift(); a && !abort.signal.aborted; a = queue.shift()) {
      try {
        await one(a);
      } catch (e) {
        if (!abort.signal.aborted) {
          firstError = e;
          abort.abort(e);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 3) }, worker));
  if (abort.signal.aborted) throw firstError;
  opts.http?.signal?.throwIfAborted();
}

const REGULAR_FILE = new Set(["File", "OldFile", "ContiguousFile"]);

/** Extracts only the wanted regular files (never links) and moves them into `work` by name. */
async function extractBinaries(a: ReleaseArtifact, archive: string, work: string): Promise<void> {
  const wanted = new Map(a.binaries.map((b) => [b.member!, b]));
  const into = `${archive}.d`;
  await mkdir(into);
  // Loaded here: every start imports this module, and only a download unpacks anything.
  const tar = await import("tar");
  try {
    await tar.x({
      file: archive,
      cwd: into,
      filter: (p, entry) => wanted.has(memberPath(p)) && "type" in entry && REGULAR_FILE.has(entry.type),
    });
  } catch (e) {
    throw new UserError(`cannot unpack ${a.url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let found = 0;
  for (const b of a.binaries) {
    const from = path.join(into, b.member!);
    if (!(await isFile(from))) {
      if (b.optional) continue;
      throw new UserError(`${a.url} does not contain ${b.member}`, "The release archive's layout may have changed; use the source build.");
    }
    await rename(from, path.join(work, b.name));
    found++;
  }
  if (found === 0) throw new UserError(`${a.url} contains none of ${a.binaries.map((b) => b.name).join(", ")}`);
}

/** Renames the finished temp dir to `destDir`, coping with a concurrent run or a leftover dir there. */
async function install(work: string, destDir: string, artifacts: ReleaseArtifact[]): Promise<Record<string, string>> {
  const names = await readdir(work);
  await Promise.all(names.map((n) => chmod(path.join(work, n), 0o755)));
  try {
    await rename(work, destDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    const theirs = await installedBinaries(destDir, artifacts);
    if (theirs) return theirs;
    // Something incomplete sits there (not made by us): swap it out rather than fail forever.
    const aside = path.join(path.dirname(destDir), tempName(path.basename(destDir)));
    await rename(destDir, aside);
    await rename(work, destDir);
    await rm(aside, { recursive: true, force: true });
  }
  return Object.fromEntries(names.sort().map((n) => [n, path.join(destDir, n)]));
}

/** name -> path when `destDir` holds every required binary, else undefined. */
async function installedBinaries(destDir: string, artifacts: ReleaseArtifact[]): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {};
  for (const a of artifacts) {
    let found = 0;
    for (const b of a.binaries) {
      const p = path.join(destDir, b.name);
      if (await isFile(p)) {
        out[b.name] = p;
        found++;
      } else if (!b.optional) return undefined;
    }
    // An artifact whose binaries are all optional (the CNI plugins) still has to have left one.
    if (found === 0) return undefined;
  }
  return out;
}

function tempName(base: string): string {
  return `.${base}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

const STALE_AFTER_MS = 24 * 3600 * 1000;

/** Removes temp dirs left by killed runs: their process is gone, or they are too old to be live. */
async function removeStaleTempDirs(parent: string, base: string): Promise<void> {
  const prefix = `.${base}.tmp-`;
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]+$/.exec(entry.slice(prefix.length));
    if (!m) continue;
    const full = path.join(parent, entry);
    const old = await stat(full).then(
      (s) => Date.now() - s.mtimeMs > STALE_AFTER_MS,
      () => false,
    );
    if (old || !processAlive(Number(m[1]))) await rm(full, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function memberPath(p: string): string {
  return p.replace(/^(\.\/)+/, "");
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}
