import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import yaml from "js-yaml";
import { IssueList } from "../config/issue-list.js";
import { ConfigError, type ConfigIssue } from "../config/issues.js";
import { parseYamlSource } from "../config/yaml-source.js";
import type { KubeObject } from "../kube/index.js";
import { UserError } from "../util/errors.js";
import { projectRoot } from "../util/project.js";
import { checkDescriptor, ROLLOUT_KINDS, type AddonDescriptor } from "./descriptor.js";

/** One manifest file of an addon, parsed, before any value is rendered into it. */
export interface ManifestFile {
  file: string;
  documents: KubeObject[];
  /** Upstream data taken as it is (CRDs from a Go module): labelled, but no reference is filled in. */
  verbatim?: boolean;
}

/** An addon as found on disk: its descriptor and its manifests. */
export interface Addon extends AddonDescriptor {
  dir: string;
  manifests: ManifestFile[];
}

export const DESCRIPTOR_FILE = "addon.yaml";

/** Where the addons kubeyard ships live: `addons/` beside package.json, from src/ or dist/. */
export function addonsDir(): string {
  return path.join(projectRoot(), "addons");
}

/** Every addon under `dir`, by name, each checked; a broken one fails naming its file. */
export async function listAddons(dir: string = addonsDir()): Promise<Addon[]> {
  return Promise.all((await addonNames(dir)).map((name) => loadAddon(path.join(dir, name))));
}

/**
 * The names of the addons under `dir`, one per folder (an addon's name is its folder's), without
 * reading them: what a cluster config's addons are checked against. Reading and checking every
 * addon's manifests took a seventh of a second of every start.
 */
export async function addonNames(dir: string = addonsDir()): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read the addons folder ${dir}: ${error.code ?? error.message}`, "reinstall kubeyard");
  });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** The named addon, read alone; an unknown name fails listing the known ones. */
export async function getAddon(name: string, dir: string = addonsDir()): Promise<Addon> {
  const known = await addonNames(dir);
  if (!known.includes(name)) throw new UserError(`unknown addon "${name}"`, `known addons: ${known.join(", ")}`);
  return loadAddon(path.join(dir, name));
}

async function loadAddon(dir: string): Promise<Addon> {
  const file = path.join(dir, DESCRIPTOR_FILE);
  const fail = (issues: readonly ConfigIssue[]) =>
    new ConfigError(issues, { title: `${file} is not a valid addon descriptor`, hint: "fix the addon's descriptor" });
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail([{ file, field: "", problem: `cannot be read (${code}); every folder under addons/ needs an ${DESCRIPTOR_FILE}` }]);
  }
  const src = parseYamlSource(text, file, { document: "an addon descriptor" });
  if (src.syntaxIssues.length) throw fail(src.syntaxIssues);
  const { descriptor, issues } = checkDescriptor(src, path.basename(dir));
  if (!descriptor) throw fail(issues);

  const manifests = await loadManifests(dir);
  const missing = new IssueList(src);
  descriptor.readiness.forEach((check, i) => {
    if (check.apiVersion || ROLLOUT_KINDS[check.kind]) return;
    const held = manifests.some((m) => m.documents.some((d) => d.kind === check.kind && d.metadata?.name === check.name));
    if (held) return;
    const allowed = `the apiVersion of ${check.kind} (the manifests hold no ${check.kind} ${check.name})`;
    missing.file(["readiness", i, "apiVersion"], { problem: "is missing", allowed });
  });
  if (missing.length) throw fail(missing.sorted());
  return { ...descriptor, dir, manifests };
}

/** Every `*.yaml` beside the descriptor, in name order, each a stream of Kubernetes objects. */
async function loadManifests(dir: string): Promise<ManifestFile[]> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n) && n !== DESCRIPTOR_FILE).sort();
  return Promise.all(names.map((name) => loadManifestFile(path.join(dir, name))));
}

/** One file of Kubernetes objects; a document that is not one fails naming the file. */
export async function loadManifestFile(file: string): Promise<ManifestFile> {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(await readFile(file, "utf8"), null, { filename: file });
  } catch (error) {
    throw new UserError(`${file}: YAML syntax error: ${(error as Error).message.split("\n")[0]}`, "fix the addon's manifest");
  }
  const documents = docs
    .map((doc, i) => ({ doc, i }))
    .filter(({ doc }) => doc !== null && doc !== undefined)
    .map(({ doc, i }) => {
      const obj = doc as KubeObject;
      const ok =
        typeof obj === "object" &&
        !Array.isArray(obj) &&
        typeof obj.apiVersion === "string" &&
        typeof obj.kind === "string" &&
        typeof obj.metadata?.name === "string";
      if (!ok) {
        throw new UserError(
          `${file}: document ${i + 1} is not a Kubernetes object`,
          "give every document apiVersion, kind and metadata.name",
        );
      }
      return obj;
    });
  return { file, documents };
}
