import { promises as fs } from "node:fs";
import path from "node:path";
import { checkImageRef } from "../config/image-ref.js";
import { runningNodes } from "../cluster/running-nodes.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import { loadImages, type LoadResult } from "./image-load.js";

export interface BuildRequest {
  /** The build context: a folder on the host. */
  dir: string;
  /** The image's name, with a tag or without (then `latest`). */
  tag: string;
  /** The Dockerfile, relative to the working directory as `docker build -f` takes it; DIR/Dockerfile without. */
  dockerfile?: string;
  /** `K=V` each. */
  buildArgs?: readonly string[];
}

/** What `build` hands the engine once the request has been checked. */
export interface CheckedBuild {
  dir: string;
  tag: string;
  /** Relative to `dir`, with "/" separators. */
  dockerfile: string;
  buildArgs: Record<string, string>;
}

/**
 * `kubeyard image build`: builds with the host's engine, then loads the image into every node as
 * `image load` does. Everything is checked before the engine builds anything: the folder, the
 * Dockerfile, the tag, the build arguments, and that every node of the cluster runs. A build that
 * fails fails with the engine's error, and nothing is loaded.
 */
export async function buildAndLoad(
  driver: NodeDriver,
  cluster: string,
  req: BuildRequest,
  onLine: (text: string) => void,
): Promise<LoadResult & { tag: string }> {
  const checked = await checkBuild(req);
  await runningNodes(driver, cluster);
  try {
    await driver.images.build(checked.dir, checked.tag, { dockerfile: checked.dockerfile, buildArgs: checked.buildArgs, onLine });
  } catch (err) {
    throw new UserError(`building ${checked.tag} failed: ${(err as Error).message}`, "Nothing was loaded into the nodes.");
  }
  return { ...(await loadImages(driver, cluster, { images: [checked.tag], archives: [] })), tag: checked.tag };
}

/** The request with every path resolved and every value checked; throws the first problem found. */
export async function checkBuild(req: BuildRequest, cwd = process.cwd()): Promise<CheckedBuild> {
  const dir = path.resolve(cwd, req.dir);
  const dirStat = await fs.stat(dir).catch(() => undefined);
  if (!dirStat)
    throw new UserError(
      `${req.dir}: no such folder`,
      "Give the folder to build (the build context), e.g. `kubeyard image build -t myapp:dev .`.",
    );
  if (!dirStat.isDirectory())
    throw new UserError(
      `${req.dir}: not a folder`,
      "Give the folder to build (the build context), not a file; name the Dockerfile with -f.",
    );

  const file = req.dockerfile === undefined ? path.join(dir, "Dockerfile") : path.resolve(cwd, req.dockerfile);
  const shown = req.dockerfile ?? path.join(req.dir, "Dockerfile");
  const fileStat = await fs.stat(file).catch(() => undefined);
  if (!fileStat?.isFile()) {
    throw new UserError(
      `${shown}: ${fileStat ? "not a file" : "no such Dockerfile"}`,
      req.dockerfile === undefined
        ? "Put a Dockerfile in the folder, or name one with -f FILE."
        : "Name an existing Dockerfile with -f FILE.",
    );
  }
  const rel = path.relative(dir, file);
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new UserError(
      `-f ${req.dockerfile}: the Dockerfile is outside the build folder ${req.dir}`,
      "Put the Dockerfile inside the folder being built.",
    );
  }

  const tagProblem = req.tag.includes("@")
    ? { problem: "has a digest", allowed: "a name with an optional tag, such as myapp:dev" }
    : checkImageRef(req.tag);
  if (tagProblem) throw new UserError(`-t "${req.tag}" ${tagProblem.problem}`, `Give ${tagProblem.allowed}.`);

  return { dir, tag: req.tag, dockerfile: rel.split(path.sep).join("/"), buildArgs: parseBuildArgs(req.buildArgs ?? []) };
}

/** `K=V` each into an object; the value may be empty or hold further "=". */
export function parseBuildArgs(given: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of given) {
    const i = kv.indexOf("=");
    const key = i > 0 ? kv.slice(0, i) : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UserError(`--build-arg "${kv}" is not NAME=VALUE`, "Give each build argument as NAME=VALUE, e.g. --build-arg VERSION=1.2.");
    }
    out[key] = kv.slice(i + 1);
  }
  return out;
}
