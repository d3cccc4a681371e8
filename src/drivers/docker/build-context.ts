import { promises as fs } from "node:fs";
import path from "node:path";
import dockerignore from "@balena/dockerignore";
import * as tar from "tar";

/**
 * The build context as the engine receives it: a tar of `contextDir` without what its `.dockerignore`
 * excludes, as `docker build` sends it. The Dockerfile and `.dockerignore` always go, as with docker.
 * An excluded folder is left out whole unless a `!` rule may bring part of it back.
 */
export async function buildContext(contextDir: string, dockerfile = "Dockerfile"): Promise<NodeJS.ReadableStream> {
  const files = await fs.readdir(contextDir);
  const rules = await fs.readFile(path.join(contextDir, ".dockerignore"), "utf8").catch(() => undefined);
  if (rules === undefined) return tar.c({ cwd: contextDir, portable: true }, files) as unknown as NodeJS.ReadableStream;
  // A CommonJS module whose types declare a default export: the function is its `default`.
  const ig = dockerignore.default().add(rules.split(/\r?\n/));
  const exceptions = rules.split(/\r?\n/).some((l) => l.trim().startsWith("!"));
  const always = new Set([path.posix.normalize(dockerfile), ".dockerignore"]);
  const keep = (p: string, entry: object): boolean => {
    const rel = path.posix.normalize(p);
    if (always.has(rel)) return true;
    const folder = "isDirectory" in entry && typeof entry.isDirectory === "function" && entry.isDirectory() === true;
    return folder ? exceptions || !ig.ignores(rel) : !ig.ignores(rel);
  };
  return tar.c({ cwd: contextDir, portable: true, filter: keep }, files) as unknown as NodeJS.ReadableStream;
}
