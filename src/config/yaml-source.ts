import path from "node:path";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ConfigIssue, PathSegment } from "./issues.js";

/**
 * A YAML file (the cluster config, an addon descriptor) parsed with its source positions kept, so
 * any field can be traced back to the line and column where it was written.
 */
export interface YamlSource {
  /** The file as the user named it, for messages. */
  readonly file: string;
  /** The file's folder, for relative host paths in mounts. */
  readonly dir: string;
  /** The document as plain data; undefined when the YAML itself is broken. */
  readonly data: unknown;
  /** YAML syntax errors; when there are any, `data` is not to be trusted. */
  readonly syntaxIssues: readonly ConfigIssue[];
  /** Where the value (or with at="key" the key) at `path` was written; the nearest written ancestor when it is absent. */
  locate(path: readonly PathSegment[], at?: "key" | "value"): { line: number; col: number };
}

export interface YamlSourceOptions {
  /** What the file's one document is, for a file that holds several: "a single Cluster". */
  document: string;
  /**
   * Fields read as the text written even where YAML sees a number or boolean (`1.30`, `true`), as
   * dotted paths in which `*` stands for every key or item: "nodes.*.labels.*".
   */
  textFields?: readonly string[];
}

export function parseYamlSource(text: string, file: string, opts: YamlSourceOptions): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: false });
  const pos = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    // linePos reports line 0 for a file without newlines.
    return { line: Math.max(line, 1), col };
  };
  const syntaxIssues: ConfigIssue[] = doc.errors.map((e) => ({
    file,
    ...pos(e.pos[0]),
    field: "",
    problem: e.code === "MULTIPLE_DOCS" ? "the file holds more than one YAML document" : `YAML syntax error: ${e.message.split("\n")[0]}`,
    allowed: e.code === "MULTIPLE_DOCS" ? `one document: ${opts.document}` : undefined,
  }));
  let data: unknown;
  if (syntaxIssues.length === 0) {
    stringifyScalars(doc, text, opts.textFields ?? []);
    data = doc.toJS({ maxAliasCount: 100 });
  }
  return {
    file,
    dir: path.dirname(path.resolve(file)),
    data,
    syntaxIssues,
    locate(p, at = "value") {
      const node = findNode(doc, p, at);
      return pos(node?.range?.[0] ?? 0);
    },
  };
}

function findNode(doc: Document, p: readonly PathSegment[], at: "key" | "value"): Node | undefined {
  let cur: unknown = doc.contents;
  let found: Node | undefined = cur as Node | undefined;
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (isAlias(cur)) cur = cur.resolve(doc);
    let next: unknown;
    if (isMap(cur)) {
      const pair = cur.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      const last = i === p.length - 1;
      // `role:` with nothing after it has no value node; point at its key then.
      next = last && at === "key" ? pair.key : (pair.value ?? pair.key);
    } else if (isSeq(cur) && typeof seg === "number") {
      next = cur.items[seg];
    }
    if (!next) break;
    cur = next;
    found = next as Node;
  }
  return found;
}

/**
 * YAML reads `kubernetesVersion: 1.30` as the number 1.3 and `tier: true` as a boolean; where the
 * schema wants text, take what the user actually typed instead of failing them on a type.
 */
function stringifyScalars(doc: Document, text: string, fields: readonly string[]): void {
  const fix = (n: unknown) => {
    if (!isScalar(n) || !n.range) return;
    const t = typeof n.value;
    if (t === "number" || t === "boolean" || t === "bigint") n.value = text.slice(n.range[0], n.range[1]);
  };
  const children = (n: unknown, seg: string): unknown[] => {
    if (isMap(n)) return seg === "*" ? n.items.map((p) => p.value) : [n.get(seg, true)];
    return isSeq(n) && seg === "*" ? n.items : [];
  };
  for (const field of fields) {
    let nodes: unknown[] = [doc.contents];
    for (const seg of field.split(".")) nodes = nodes.flatMap((n) => children(n, seg));
    nodes.forEach(fix);
  }
}
