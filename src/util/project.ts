import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The installed package's root (holding images/ and addons/), whether running from src/ or dist/. */
export function projectRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) || !existsSync(path.join(dir, "images"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find kubeyard's package root");
    dir = up;
  }
  root = dir;
  return dir;
}
