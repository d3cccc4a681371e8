import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ImageStore } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import { cacheDir } from "../util/paths.js";
import { projectRoot } from "../util/project.js";
import { ArtifactCache } from "./cache.js";
import { runLogged } from "./go-toolchain.js";

const DEBIAN_SUITE = "bookworm";

export async function basePackages(): Promise<string[]> {
  const text = await fs.readFile(path.join(projectRoot(), "images", "base", "packages.txt"), "utf8");
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** The base image's tag names its inputs, so a changed package list makes a new base and an unchanged one is reused. */
export async function baseImageTag(): Promise<string> {
  const pkgs = await basePackages();
  const dockerfile = await fs.readFile(path.join(projectRoot(), "images", "base", "Dockerfile"), "utf8");
  const hash = createHash("sha256").update(DEBIAN_SUITE).update(pkgs.join("\n")).update(dockerfile).digest("hex");
  return `kubeyard/base:${DEBIAN_SUITE}-${hash.slice(0, 12)}`;
}

/**
 * Makes the Debian base every node image starts from: from debian:bookworm-slim where that can be
 * pulled, otherwise by debootstrapping the same packages from a Debian mirror (no registry needed).
 */
export async function ensureBaseImage(
  images: ImageStore,
  opts: { log: string; workDir: string; onStep?: (s: string) => void; warn?: (s: string) => void },
): Promise<string> {
  const tag = await baseImageTag();
  if (await images.inspect(tag)) return tag;
  // Two kubeyard processes on a fresh machine would otherwise debootstrap side by side into one
  // package cache, and one of them fails.
  const release = await new ArtifactCache().lock("base-image");
  try {
    if (await images.inspect(tag)) return tag;
    await makeBaseImage(images, tag, opts);
  } finally {
    await release();
  }
  return tag;
}

async function makeBaseImage(
  images: ImageStore,
  tag: string,
  opts: { log: string; workDir: string; onStep?: (s: string) => void; warn?: (s: string) => void },
): Promise<void> {
  const from = `debian:${DEBIAN_SUITE}-slim`;
  let pulled = false;
  try {
    opts.onStep?.(`pull ${from}`);
    await images.pull(from);
    pulled = true;
  } catch (err) {
    opts.warn?.(`cannot pull ${from} (${firstLine(err)}); building the base with debootstrap instead`);
  }
  if (pulled) {
    opts.onStep?.("install packages");
    await images.build(path.join(projectRoot(), "images", "base"), tag, { log: opts.log });
  } else {
    await debootstrapBase(images, tag, opts);
  }
}

async function debootstrapBase(images: ImageStore, tag: string, opts: { log: string; workDir: string; onStep?: (s: string) => void }) {
  // Loaded here, not with the module: every start imports it, and only a build runs anything.
  const { execa } = await import("execa");
  const which = await execa("debootstrap", ["--version"], { reject: false });
  if (which.exitCode !== 0) {
    throw new UserError(
      "debian:bookworm-slim cannot be pulled and debootstrap is not installed, so the node base image cannot be made.",
      "Install debootstrap (`apt-get install debootstrap`), or make a registry with debian:bookworm-slim reachable.",
    );
  }
  if (process.getuid && process.getuid() !== 0) {
    throw new UserError(
      "debian:bookworm-slim cannot be pulled, and building the base with debootstrap needs root.",
      "Run `sudo kubeyard build node-image` once (the base image is cached), or make debian:bookworm-slim pullable.",
    );
  }
  const mirror = process.env.KUBEYARD_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
  const rootfs = path.join(opts.workDir, "rootfs");
  // Keeping the downloaded .debs makes a rebuild of the base (a changed package list) quick.
  const debCache = path.join(cacheDir(), "debootstrap");
  await fs.mkdir(debCache, { recursive: true });
  opts.onStep?.(`debootstrap ${DEBIAN_SUITE}`);
  try {
    await runLogged(
      "debootstrap",
      ["--variant=minbase", `--cache-dir=${debCache}`, `--include=${(await basePackages()).join(",")}`, DEBIAN_SUITE, rootfs, mirror],
      { cwd: opts.workDir, env: process.env, log: opts.log },
    );
    await fs.rm(path.join(rootfs, "var", "cache", "apt", "archives"), { recursive: true, force: true });
    await fs.rm(path.join(rootfs, "var", "lib", "apt", "lists"), { recursive: true, force: true });
    opts.onStep?.("import root filesystem");
    await images.importRootfs(rootfs, tag, ['CMD ["/bin/bash"]']);
  } finally {
    await fs.rm(rootfs, { recursive: true, force: true });
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split("\n")[0]!;
}

/** `ensureBaseImage` made at most once, on first call: image builds that need no base never make it. */
export function baseImageOnce(
  images: ImageStore,
  opts: { log: string; workDir: string; onStep?: (s: string) => void; warn?: (s: string) => void },
): () => Promise<string> {
  let base: Promise<string> | undefined;
  return () => (base ??= ensureBaseImage(images, opts));
}
