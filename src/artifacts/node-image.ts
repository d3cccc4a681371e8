import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { containerdConfig } from "../components/containerd.js";
import { containersPolicy, containersRegistriesConfig, containersStorageConfig, crioConfig } from "../components/crio.js";
import type { ImageStore } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import { projectRoot } from "../util/project.js";
import { baseImageOnce } from "./base-image.js";
import type { ArtifactCache, CachedArtifact } from "./cache.js";
import { ensureImage, imageSources } from "./images.js";
import { obtainBinaries } from "./obtain.js";
import { countedItems } from "./progress-items.js";
import type { ArtifactName } from "./recipes.js";
import type { SourceChoice } from "./source-choice.js";
import type { Progress } from "./source-artifact.js";
import { imageRefs, NODE_IMAGES, type ComponentVersions } from "../versions/versions.js";

export const NODE_IMAGE_REPO = "kubeyard/node";
export const LABEL_INPUTS = "dev.kubeyard.inputs";
export const LABEL_K8S_VERSION = "dev.kubeyard.kubernetes-version";

export function nodeImageTag(v: ComponentVersions): string {
  return `${NODE_IMAGE_REPO}:v${v.kubernetes}`;
}

export interface NodeImageResult {
  tag: string;
  /** False when an image with the same inputs already existed. */
  built: boolean;
  size: number;
}

/** The binaries every node runs. */
export const NODE_BINARIES: readonly ArtifactName[] = [
  "kubernetes",
  "etcd",
  "containerd",
  "runc",
  "cni-plugins",
  "cri-tools",
  "crio",
  "crio-runc",
  "pinns",
  "crio-image-load",
];

/**
 * Builds the node image for a Kubernetes version: the Debian base, the binaries, runit services, and
 * the pod images a fresh cluster needs preloaded into containerd. Its inputs are hashed into a label,
 * so building again with nothing changed only re-checks the cache.
 */
export async function buildNodeImage(
  images: ImageStore,
  v: ComponentVersions,
  opts: Progress & { cache: ArtifactCache; source: SourceChoice; log: string; force?: boolean },
): Promise<NodeImageResult> {
  const tag = nodeImageTag(v);
  const workDir = await opts.cache.tempDir();
  try {
    const item = countedItems(NODE_BINARIES.length + NODE_IMAGES.length + 1, opts.onStep);
    const baseImage = baseImageOnce(images, { log: opts.log, workDir, onStep: opts.onStep, warn: opts.warn });
    const binaries: CachedArtifact[] = [];
    for (const name of NODE_BINARIES) {
      binaries.push(...(await item(name, (onStep) => obtainBinaries([name], v, { ...opts, onStep }))));
    }
    const sources = imageSources(opts.source);
    const preloaded: string[] = [];
    for (const name of NODE_IMAGES) {
      preloaded.push(await item(`image ${name}`, (onStep) => ensureImage(images, name, v, { ...opts, onStep, baseImage, sources })));
    }
    const baseTag = await baseImage();

    const inputs = await inputsHash(images, v, baseTag, binaries, preloaded);
    const upToDate = async () => {
      const existing = await images.inspect(tag);
      return !opts.force && existing?.labels[LABEL_INPUTS] === inputs ? existing : undefined;
    };
    const current = await upToDate();
    if (current) return { tag, built: false, size: current.size };
    // One build of a version's node image at a time; a process that waited reuses what the other built.
    const release = await opts.cache.lock(`node-image-${v.kubernetes}`);
    try {
      const built = await upToDate();
      if (built) return { tag, built: false, size: built.size };
      return await item("node image", (onStep) =>
        buildFromInputs(images, v, { ...opts, onStep, workDir, baseTag, binaries, preloaded, inputs, tag }),
      );
    } finally {
      await release();
    }
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** Builds the image from inputs already obtained: the node folder and binaries, then the preloaded images. */
async function buildFromInputs(
  images: ImageStore,
  v: ComponentVersions,
  opts: Progress & {
    log: string;
    workDir: string;
    baseTag: string;
    binaries: CachedArtifact[];
    preloaded: string[];
    inputs: string;
    tag: string;
  },
): Promise<NodeImageResult> {
  const { workDir, baseTag, binaries, preloaded, inputs, tag } = opts;
  const context = path.join(workDir, "context");
  await fs.cp(path.join(projectRoot(), "images", "node"), context, { recursive: true });
  await linkBinaries(binaries, context);
  for (const [file, content] of Object.entries(runtimeFiles(v))) {
    await fs.mkdir(path.dirname(path.join(context, "runtime", file)), { recursive: true });
    await fs.writeFile(path.join(context, "runtime", file), content);
  }
  const dockerfile = path.join(context, "Dockerfile");
  await fs.writeFile(dockerfile, (await fs.readFile(dockerfile, "utf8")).replace(/^ARG BASE$/m, `ARG BASE=${baseTag}`));

  const replaced = await images.inspect(tag);
  opts.onStep?.(`build image; log: ${opts.log}`, { keep: true });
  const stage = `${NODE_IMAGE_REPO}-stage:${inputs.slice(0, 12)}`;
  await images.build(context, stage, { log: opts.log });
  try {
    opts.onStep?.(`preload ${preloaded.length} images`);
    const archive = path.join(workDir, "images.tar");
    await images.save(preloaded, archive);
    await preload(images, stage, archive, tag, {
      [LABEL_INPUTS]: inputs,
      [LABEL_K8S_VERSION]: `v${v.kubernetes}`,
    });
  } finally {
    await images.remove(stage).catch(() => undefined);
  }
  const info = await images.inspect(tag);
  // The image this one replaces would stay behind untagged, about 1 GB each time; the engine
  // refuses to remove it while a cluster's containers still run from it, and then it stays.
  if (replaced && replaced.id !== info?.id) await images.remove(replaced.id).catch(() => undefined);
  return { tag, built: true, size: info?.size ?? 0 };
}

/**
 * Binaries the nodes run only inside pod images of their own (kube-proxy's, and the control plane's
 * static pods), so not in the node's root. etcd and etcdctl stay: kubeyard runs etcdctl in the node, and
 * etcd on a snapshot's saved data (snapshot/saved-keys.ts), the same way whichever runtime the node has.
 */
const POD_ONLY_BINARIES: readonly string[] = ["kube-proxy", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

async function linkBinaries(binaries: CachedArtifact[], context: string): Promise<void> {
  const bin = path.join(context, "bin");
  const cni = path.join(context, "cni");
  await fs.mkdir(bin, { recursive: true });
  await fs.mkdir(cni, { recursive: true });
  for (const art of binaries) {
    const dest = art.name === "cni-plugins" ? cni : bin;
    for (const f of art.files) {
      if (f.endsWith(".json") || POD_ONLY_BINARIES.includes(f)) continue;
      // Hard links: the cache and the build dir share a filesystem, and these files are large.
      await fs.link(path.join(art.dir, f), path.join(dest, f)).catch(() => fs.copyFile(path.join(art.dir, f), path.join(dest, f)));
    }
  }
}

async function inputsHash(
  images: ImageStore,
  v: ComponentVersions,
  baseTag: string,
  binaries: CachedArtifact[],
  preloaded: string[],
): Promise<string> {
  const h = createHash("sha256");
  // Not all of `v`: its addon versions are not in the image, and bumping one must not rebuild it.
  // What the image holds is hashed below: binaries by version, images by ID, files and config.
  h.update(v.kubernetes);
  h.update(baseTag + ((await images.inspect(baseTag))?.id ?? ""));
  for (const b of binaries) h.update(`${b.name}/${b.version}/${b.source}/${b.createdAt}`);
  for (const ref of preloaded) h.update(`${ref}@${(await images.inspect(ref))?.id ?? ""}`);
  const nodeDir = path.join(projectRoot(), "images", "node");
  for (const e of (await fs.readdir(nodeDir, { recursive: true, withFileTypes: true })).sort((a, b) =>
    path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)),
  )) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    h.update(path.relative(nodeDir, p)).update(await fs.readFile(p));
  }
  for (const [file, content] of Object.entries(runtimeFiles(v))) h.update(file).update(content);
  return h.digest("hex");
}

/** The config files of both runtimes, by their path in the node. */
function runtimeFiles(v: ComponentVersions): Record<string, string> {
  return {
    "etc/containerd/config.toml": containerdConfig(v),
    "etc/crio/crio.conf": crioConfig(v),
    "etc/containers/storage.conf": containersStorageConfig(),
    "etc/containers/policy.json": containersPolicy(),
    "etc/containers/registries.conf": containersRegistriesConfig(),
  };
}

/** Imports the image archive into containerd inside a container of `stage`, then commits it as `tag`. */
async function preload(images: ImageStore, stage: string, archive: string, tag: string, labels: Record<string, string>) {
  const res = await images.commitRun(stage, ["/usr/local/lib/kubeyard/preload-images", "/preload/images.tar"], {
    mounts: [{ hostPath: archive, containerPath: "/preload/images.tar", readOnly: true }],
    tag,
    changes: [
      'ENTRYPOINT ["/usr/local/bin/kubeyard-entrypoint"]',
      "CMD []",
      ...Object.entries(labels).map(([k, val]) => `LABEL ${k}=${val}`),
    ],
  });
  if (res.exitCode !== 0) {
    throw new UserError(`preloading images into the node image failed (exit ${res.exitCode}):\n${res.output.slice(-2000)}`);
  }
}

export { imageRefs };
