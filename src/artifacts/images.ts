import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ImageStore } from "../drivers/types.js";
import { projectRoot } from "../util/project.js";
import { baseImageOnce } from "./base-image.js";
import type { ArtifactCache } from "./cache.js";
import type { SourceChoice } from "./source-choice.js";
import { artifactVersion, recipeFor, type ArtifactName } from "./recipes.js";
import { buildArtifact, type Progress } from "./source-artifact.js";
import { digestTree } from "./tree-digest.js";
import { imageRefs, KUBE_WEB_VIEW_VERSION, type ComponentVersions, type ImageName } from "../versions/versions.js";

/** Labels every image kubeyard builds carries, so `artifacts list` can tell them from pulled ones. */
export const LABEL_BUILT_FROM = "dev.kubeyard.built-from";
export const LABEL_ORIGIN = "dev.kubeyard.origin";
/** The reference an image was built for: two tags built from one context (agnhost 2.66.1 and 2.55) stay two images. */
export const LABEL_REF = "dev.kubeyard.ref";
/** A digest of the folder under images/ an image was built from (and its parent image's): a changed recipe builds it again. */
export const LABEL_RECIPE = "dev.kubeyard.recipe";

/** Which binary artifact each image wraps (busybox and kube-web-view come from Debian and PyPI instead). */
const IMAGE_BINARY: Record<ImageName, ArtifactName | undefined> = {
  pause: "pause",
  kubeProxy: "kubernetes",
  kubeApiserver: "kubernetes",
  kubeControllerManager: "kubernetes",
  kubeScheduler: "kubernetes",
  etcd: "etcd",
  coredns: "coredns",
  localPathProvisioner: "local-path-provisioner",
  busybox: undefined,
  metricsServer: "metrics-server",
  traefik: "traefik",
  registry: "registry",
  agnhost: "agnhost-all",
  kubeWebView: undefined,
  kubeRouter: "kube-router",
  agnhostPrev: "agnhost-all",
  e2eBusybox: undefined,
  e2eNginx: undefined,
  e2eNginxNew: undefined,
  kitten: "kitten-files",
  nautilus: "nautilus-files",
  nonroot: undefined,
  nonewprivs: "nonewprivs",
  glibcDnsTesting: undefined,
  sampleApiserver: "sample-apiserver",
};

/** Where the images that wrap no Go binary come from, for their origin label and build log. */
const PACKAGED_IMAGE: Partial<Record<ImageName, (v: ComponentVersions) => { origin: string; version: string }>> = {
  busybox: (v) => ({ origin: "debian:bookworm busybox-static", version: v.busybox }),
  kubeWebView: () => ({ origin: `pypi:kube-web-view==${KUBE_WEB_VIEW_VERSION}`, version: KUBE_WEB_VIEW_VERSION }),
  e2eBusybox: (v) => ({ origin: "busybox 1.37.0 source (debian:trixie)", version: tagOf(imageRefs(v).e2eBusybox) }),
  e2eNginx: (v) => ({ origin: "debian:bookworm nginx-light", version: tagOf(imageRefs(v).e2eNginx) }),
  e2eNginxNew: (v) => ({ origin: "debian:bookworm nginx-light", version: tagOf(imageRefs(v).e2eNginxNew) }),
  nonroot: (v) => ({ origin: "debian:bookworm", version: tagOf(imageRefs(v).nonroot) }),
  glibcDnsTesting: (v) => ({ origin: "debian:bookworm dnsutils", version: tagOf(imageRefs(v).glibcDnsTesting) }),
};

/** Files from upstream an image holds besides its binary (agnhost's porter serves TLS with upstream's test certificate). */
const IMAGE_DATA: Partial<Record<ImageName, ArtifactName[]>> = { agnhost: ["agnhost-porter-files"], agnhostPrev: ["agnhost-porter-files"] };

/** Images built on another image of this table, as upstream builds them (kitten and nautilus are agnhost with a picture). */
const IMAGE_PARENT: Partial<Record<ImageName, ImageName>> = { kitten: "agnhost", nautilus: "agnhost" };

/**
 * The files an image takes from an artifact that holds more than it needs (the Kubernetes build has
 * every component): only these go into its build context. Images not listed take every file.
 */
const IMAGE_FILES: Partial<Record<ImageName, readonly string[]>> = {
  kubeProxy: ["kube-proxy"],
  kubeApiserver: ["kube-apiserver"],
  kubeControllerManager: ["kube-controller-manager"],
  kubeScheduler: ["kube-scheduler"],
};

/** Images no registry publishes under their name: pulling them is never tried. */
const BUILT_ONLY: readonly ImageName[] = ["kubeWebView"];

const IMAGE_DIR: Record<ImageName, string> = {
  pause: "pause",
  kubeProxy: "kube-proxy",
  kubeApiserver: "kube-apiserver",
  kubeControllerManager: "kube-controller-manager",
  kubeScheduler: "kube-scheduler",
  etcd: "etcd",
  coredns: "coredns",
  localPathProvisioner: "local-path-provisioner",
  busybox: "busybox",
  metricsServer: "metrics-server",
  traefik: "traefik",
  registry: "registry",
  agnhost: "agnhost",
  kubeWebView: "kube-web-view",
  kubeRouter: "kube-router",
  agnhostPrev: "agnhost",
  e2eBusybox: "e2e-busybox",
  e2eNginx: "nginx",
  e2eNginxNew: "nginx",
  kitten: "kitten",
  nautilus: "nautilus",
  nonroot: "nonroot",
  nonewprivs: "nonewprivs",
  glibcDnsTesting: "glibc-dns-testing",
  sampleApiserver: "sample-apiserver",
};

function tagOf(ref: string): string {
  return ref.slice(ref.lastIndexOf(":") + 1);
}

export type ImageSource = "pull" | "source";

/** The routes to an image, in order, for a `--source` choice. */
export function imageSources(choice: SourceChoice): ImageSource[] {
  return choice === "source" ? ["source"] : choice === "release" ? ["pull"] : ["pull", "source"];
}

/**
 * Makes `name` present in the engine under its upstream reference: pulled where the registry answers,
 * otherwise built from its upstream Go module. Same name either way, so manifests never change.
 */
export async function ensureImage(
  images: ImageStore,
  name: ImageName,
  v: ComponentVersions,
  opts: Progress & { cache: ArtifactCache; baseImage: () => Promise<string>; sources: ImageSource[] },
): Promise<string> {
  const ref = imageRefs(v)[name];
  const existing = await images.inspect(ref);
  // An image kubeyard built from another recipe (or before images carried theirs) is built again; a pulled one is kept.
  if (existing && (existing.labels[LABEL_BUILT_FROM] !== "source" || existing.labels[LABEL_RECIPE] === (await recipeDigest(name))))
    return ref;
  let lastErr: unknown;
  const sources: ImageSource[] = BUILT_ONLY.includes(name) ? ["source"] : opts.sources;
  for (const source of sources) {
    try {
      if (source === "pull") await images.pull(ref);
      else await buildFromSource(images, name, ref, v, { ...opts, sources });
      return ref;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

/**
 * ensureImage for one image on its own: the local base image (should a build need it) is made in a
 * work folder of the cache's that is removed afterwards.
 */
export async function ensureStandaloneImage(
  images: ImageStore,
  name: ImageName,
  v: ComponentVersions,
  opts: { cache: ArtifactCache; source: SourceChoice; onStep?: (s: string) => void },
): Promise<string> {
  const workDir = await opts.cache.tempDir();
  try {
    return await ensureImage(images, name, v, {
      cache: opts.cache,
      sources: imageSources(opts.source),
      baseImage: baseImageOnce(images, { log: opts.cache.logPath("base", "bookworm", "source"), workDir }),
      onStep: opts.onStep,
    });
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** The digest of what `name` is built from in this checkout: its folder under images/, and its parent image's. */
export async function recipeDigest(name: ImageName): Promise<string> {
  const h = createHash("sha256").update(JSON.stringify(await digestTree(path.join(projectRoot(), "images", IMAGE_DIR[name]))));
  const parent = IMAGE_PARENT[name];
  if (parent) h.update(await recipeDigest(parent));
  return h.digest("hex");
}

async function buildFromSource(
  images: ImageStore,
  name: ImageName,
  ref: string,
  v: ComponentVersions,
  opts: Progress & { cache: ArtifactCache; baseImage: () => Promise<string>; sources: ImageSource[] },
): Promise<void> {
  const binary = IMAGE_BINARY[name];
  const context = await opts.cache.tempDir();
  try {
    const srcDir = path.join(projectRoot(), "images", IMAGE_DIR[name]);
    await fs.cp(srcDir, context, { recursive: true });
    let { origin, version } = PACKAGED_IMAGE[name]?.(v) ?? { origin: "", version: "" };
    if (binary) {
      const art = await binaryArtifact(binary, v, opts);
      const wanted = IMAGE_FILES[name];
      for (const f of art.files.filter((f) => f !== "kubeyard-artifact.json" && (!wanted || wanted.includes(f)))) {
        await fs.copyFile(path.join(art.dir, f), path.join(context, f));
      }
      const r = recipeFor(binary, v);
      origin = `${r.module}@${r.version}`;
      version = artifactVersion(binary, v);
    }
    for (const data of IMAGE_DATA[name] ?? []) {
      const art = await binaryArtifact(data, v, opts);
      for (const f of art.files.filter((f) => f !== "kubeyard-artifact.json")) {
        await fs.copyFile(path.join(art.dir, f), path.join(context, f));
      }
    }
    if (name === "kubeWebView") await fs.writeFile(path.join(context, "host-ca.crt"), await hostCaBundle());
    const parent = IMAGE_PARENT[name];
    const base = parent ? await ensureImage(images, parent, v, opts) : await opts.baseImage();
    await patchBaseArg(path.join(context, "Dockerfile"), base);
    opts.onStep?.(`image ${ref}`);
    await images.build(context, ref, {
      labels: { [LABEL_BUILT_FROM]: "source", [LABEL_ORIGIN]: origin, [LABEL_REF]: ref, [LABEL_RECIPE]: await recipeDigest(name) },
      // An image taking part of a larger artifact logs under its own name, not over that artifact's build log.
      log: opts.cache.logPath(binary && !IMAGE_FILES[name] ? binary : IMAGE_DIR[name], version, "source"),
    });
  } finally {
    await fs.rm(context, { recursive: true, force: true });
  }
}

/**
 * The artifact an image wraps: the one the node image already took when that came from a release
 * (Kubernetes' own binaries), else the one built from its Go module (cached after the first build).
 */
async function binaryArtifact(binary: ArtifactName, v: ComponentVersions, opts: Progress & { cache: ArtifactCache }) {
  return (await opts.cache.get(binary, artifactVersion(binary, v), "release")) ?? (await buildArtifact(binary, v, opts.cache, opts));
}

/** Fills `ARG BASE` with the local base image (build args cannot be passed through every engine's API alike). */
export async function patchBaseArg(dockerfile: string, base: string): Promise<void> {
  const text = await fs.readFile(dockerfile, "utf8");
  await fs.writeFile(dockerfile, text.replace(/^ARG BASE$/m, `ARG BASE=${base}`));
}

/**
 * The host's CA bundle, for builds that download over HTTPS (pip): on hosts whose traffic passes an
 * inspecting proxy only the host's bundle knows its CA. Empty when the host has none of the usual files.
 */
export async function hostCaBundle(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = [
    env.PIP_CERT,
    env.SSL_CERT_FILE,
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
  ];
  for (const file of candidates) {
    if (!file) continue;
    const text = await fs.readFile(file, "utf8").catch(() => undefined);
    if (text?.includes("BEGIN CERTIFICATE")) return text;
  }
  return "";
}
