import { promises as fs } from "node:fs";
import path from "node:path";
import { projectRoot } from "../util/project.js";
import { downloadModule, goEnv, runLogged } from "./go-toolchain.js";
import type { CRecipe, FilesRecipe, GoBuild, ModuleRecipe, Recipe, WrapperRecipe } from "./recipe-kinds.js";

export interface BuildContext {
  /** Where the binaries go (a fresh temp dir that the cache publishes when the build succeeds). */
  outDir: string;
  /** Scratch space for generated modules. */
  workDir: string;
  log: string;
  /** Reports the current step ("download k8s.io/kubernetes@v1.37.1", "compile", ...). */
  onStep?: (step: string) => void;
}

export async function buildRecipe(recipe: Recipe, ctx: BuildContext): Promise<void> {
  ctx.onStep?.(`download ${recipe.module}@${recipe.version}`);
  switch (recipe.kind) {
    case "module":
      return buildModule(recipe, ctx);
    case "wrapper":
      return buildWrapper(recipe, ctx);
    case "c":
      return buildC(recipe, ctx);
    case "files":
      return copyFiles(recipe, ctx);
  }
}

async function copyFiles(recipe: FilesRecipe, ctx: BuildContext): Promise<void> {
  const src = path.join(await downloadModule(recipe.module, recipe.version, ctx.log), recipe.dir);
  const names = (await fs.readdir(src)).filter((n) => recipe.match.test(n));
  if (!names.length) throw new Error(`${recipe.module}@${recipe.version} holds no files matching ${recipe.match} in ${recipe.dir}`);
  // The module cache is read-only; the copies must not be.
  for (const n of names) await fs.writeFile(path.join(ctx.outDir, n), await fs.readFile(path.join(src, n)));
}

async function buildModule(recipe: ModuleRecipe, ctx: BuildContext): Promise<void> {
  const src = await downloadModule(recipe.module, recipe.version, ctx.log, recipe.sum);
  for (const b of recipe.builds) await goBuild(b, src, ["-mod=readonly"], ctx);
}

async function buildWrapper(recipe: WrapperRecipe, ctx: BuildContext): Promise<void> {
  const upstream = await downloadModule(recipe.module, recipe.version, ctx.log);
  const dir = path.join(ctx.workDir, "wrapper");
  await fs.mkdir(dir, { recursive: true });
  const upstreamMod = await fs.readFile(path.join(upstream, "go.mod"), "utf8");
  for (const [file, text] of Object.entries(await wrapperFiles(recipe, upstreamMod))) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  // -mod=mod lets go resolve and record the wrapper's full requirement graph in its own go.sum.
  for (const b of recipe.builds) await goBuild(b, dir, ["-mod=mod"], ctx);
}

/** The wrapper module's files by path inside it: its go.mod and the main.go of each of its mains. */
export async function wrapperFiles(recipe: WrapperRecipe, upstreamGoMod: string): Promise<Record<string, string>> {
  const files: Record<string, string> = { "go.mod": wrapperGoMod(recipe, upstreamGoMod) };
  for (const [sub, source] of Object.entries(recipe.mains ?? {})) {
    files[`${sub}/main.go`] = await fs.readFile(path.join(goMainsDir(), source), "utf8");
  }
  return files;
}

/** Where the Go sources of wrapper mains live: beside package.json, from src/ or dist/. */
export function goMainsDir(): string {
  return path.join(projectRoot(), "images", "go-mains");
}

/** The generated go.mod: upstream at its tag, its staging modules pinned to their matching tags. */
export function wrapperGoMod(recipe: WrapperRecipe, upstreamGoMod: string): string {
  const goLine = /^go\s+(\S+)/m.exec(upstreamGoMod)?.[1] ?? "1.24";
  const requires = { [recipe.module]: recipe.version, ...(recipe.requires ?? {}) };
  const lines = [`module kubeyard.local/build/${recipe.module.replace(/[^a-z0-9]+/gi, "-")}`, "", `go ${goLine}`, "", "require ("];
  for (const [m, v] of Object.entries(requires)) lines.push(`\t${m} ${v}`);
  lines.push(")");
  if (recipe.stagingVersion) {
    const staging = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+v0\.0\.0\s*$/gm)].map((m) => m[1]!);
    if (staging.length) {
      lines.push("", "replace (");
      for (const m of staging) lines.push(`\t${m} => ${m} ${recipe.stagingVersion}`);
      lines.push(")");
    }
  }
  return lines.join("\n") + "\n";
}

async function goBuild(b: GoBuild, cwd: string, modFlags: string[], ctx: BuildContext): Promise<void> {
  ctx.onStep?.(`compile ${b.packages.map((p) => path.basename(p === "." ? cwd.replace(/@.*/, "") : p)).join(", ")}`);
  const ldflags = ["-s", "-w", ...b.ldflags];
  if (b.extldflags) ldflags.push(`-extldflags=${b.extldflags}`);
  const args = ["build", ...modFlags, "-ldflags", ldflags.join(" ")];
  if (b.tags?.length) args.push("-tags", b.tags.join(","));
  // With one package, -o names the file after the module, not the dir; so always build into a dir.
  const out = ctx.outDir + path.sep;
  args.push("-o", out, ...b.packages);
  await runLogged("go", args, { cwd, env: goEnv({ CGO_ENABLED: b.cgo ? "1" : "0" }), log: ctx.log });
}

async function buildC(recipe: CRecipe, ctx: BuildContext): Promise<void> {
  const src = await downloadModule(recipe.module, recipe.version, ctx.log);
  ctx.onStep?.(`compile ${recipe.output}`);
  // pause.c stringifies VERSION itself, so the value goes in bare.
  const defines = Object.entries(recipe.defines).map(([k, v]) => `-D${k}=${v}`);
  const files = recipe.files.map((f) => path.join(src, f));
  const args = ["-Os", "-Wall", "-Werror", "-static", ...defines, "-o", path.join(ctx.outDir, recipe.output), ...files];
  await runLogged(process.env.CC ?? "cc", args, { cwd: ctx.workDir, env: process.env, log: ctx.log });
}
