import fs from "node:fs/promises";
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap } from "yaml";
import { UserError } from "../util/errors.js";

/** The three named lists of a kubeconfig and the key of the object inside each item. */
export const LISTS = [
  { key: "clusters", inner: "cluster" },
  { key: "users", inner: "user" },
  { key: "contexts", inner: "context" },
] as const;

export type ListKey = (typeof LISTS)[number]["key"];

/** A kubeconfig as plain data; every key kubeyard does not model is kept as read. */
export interface Kubeconfig {
  clusters: NamedItem[];
  users: NamedItem[];
  contexts: NamedItem[];
  "current-context": string;
  [key: string]: unknown;
}

export interface NamedItem {
  name: string;
  [key: string]: unknown;
}

// kubectl reads YAML 1.1 (go-yaml v2). Parsing as 1.1 means `yes` or `0755` mean to us what they
// mean to kubectl, existing scalars are written back exactly as they were, and new strings that
// 1.1 would read as something else (a profile named "on") are quoted.
const YAML_VERSION = "1.1";

/** An empty kubeconfig, with the keys in the order kubectl writes them. */
export function emptyKubeconfig(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    clusters: [],
    contexts: [],
    "current-context": "",
    kind: "Config",
    preferences: {},
    users: [],
  };
}

/**
 * Parses kubeconfig text into an editable document that keeps comments, key order and the
 * formatting of everything not edited. Throws a UserError naming `file` when kubectl could not
 * read it either, so that nothing is ever written over a file kubeyard does not understand.
 */
export function parseKubeconfig(text: string, file: string): Document {
  const doc = parseDocument(text, { version: YAML_VERSION, prettyErrors: true });
  const error = doc.errors[0];
  if (error) throw corrupt(file, `it is not valid YAML: ${error.message.split("\n")[0]}`);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    // An empty file is an empty kubeconfig to client-go as well.
    (doc as Document).contents = doc.createNode(emptyKubeconfig());
    return doc;
  }
  const root = doc.contents;
  if (!isMap(root)) throw corrupt(file, "its top level is not a mapping");
  for (const { key } of LISTS) {
    const list = root.get(key, true);
    if (isEmpty(list)) continue;
    if (!isSeq(list)) throw corrupt(file, `"${key}" is not a list`);
    if (!list.items.every((item) => isMap(item))) throw corrupt(file, `an item of "${key}" is not a mapping`);
  }
  const current = root.get("current-context", true);
  if (current !== undefined && !isScalar(current)) throw corrupt(file, `"current-context" is not a string`);
  return doc;
}

export interface LoadedKubeconfig {
  doc: Document;
  /** The file's text as read; undefined when the file does not exist. */
  text?: string;
}

/** Reads `file` for editing; a missing file reads as an empty kubeconfig. */
export async function loadKubeconfig(file: string): Promise<LoadedKubeconfig> {
  const text = await readIfExists(file);
  if (text === undefined) return { doc: newDocument() };
  return { doc: parseKubeconfig(text, file), text };
}

/** Reads `file` as plain data (an empty kubeconfig when it does not exist). */
export async function readKubeconfig(file: string): Promise<Kubeconfig> {
  return toKubeconfig((await loadKubeconfig(file)).doc);
}

export function newDocument(): Document {
  return new Document(emptyKubeconfig(), { version: YAML_VERSION });
}

/** Renders `doc`, following the sequence indentation the file already uses (kubectl's by default). */
export function stringifyKubeconfig(doc: Document, originalText?: string): string {
  return doc.toString({
    indentSeq: originalText !== undefined && indentsSequences(originalText),
    // Base64 data is one long line; never fold it.
    lineWidth: 0,
    minContentWidth: 0,
    flowCollectionPadding: false,
  });
}

/** The plain-data view of a parsed kubeconfig, with absent lists as [] and names as written. */
export function toKubeconfig(doc: Document): Kubeconfig {
  const root = doc.contents as YAMLMap;
  const data = (doc.toJS() ?? {}) as Record<string, unknown>;
  const result: Kubeconfig = {
    ...data,
    clusters: [],
    users: [],
    contexts: [],
    "current-context": scalarText(root.get("current-context", true)) ?? "",
  };
  for (const { key } of LISTS) {
    const list = root.get(key, true);
    const plain = (data[key] ?? []) as Array<Record<string, unknown>>;
    result[key] = isSeq(list) ? plain.map((item, i) => ({ ...item, name: itemName(list.items[i]) ?? "" })) : [];
  }
  return result;
}

/** The name of a list item as written (a name like `on` stays a string, as kubectl reads it). */
export function itemName(item: unknown): string | undefined {
  return isMap(item) ? scalarText(item.get("name", true)) : undefined;
}

export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  if (typeof node.value === "string") return node.value;
  return node.source ?? String(node.value);
}

function isEmpty(node: unknown): boolean {
  return node === undefined || node === null || (isScalar(node) && node.value === null);
}

function indentsSequences(text: string): boolean {
  const match = /^[^\s#-][^\n]*:[ \t]*\r?\n([ \t]*)- /m.exec(text);
  return match !== null && (match[1]?.length ?? 0) > 0;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UserError(`Cannot read the kubeconfig ${file}: ${(err as Error).message}`, "Check that it is a file you can read and write.");
  }
}

function corrupt(file: string, reason: string): UserError {
  return new UserError(
    `The kubeconfig ${file} cannot be read: ${reason}.`,
    "kubeyard left it unchanged. Repair or move it, or set KUBECONFIG to use another file.",
  );
}
