import { UserError } from "../util/errors.js";

/**
 * One thing wrong with the cluster config, carrying everything the user needs to fix it without
 * reading docs: where (file:line:col, or the flag), which field, the value given, and what is
 * accepted there.
 */
export interface ConfigIssue {
  /** The config file, as the user named it; absent for flags. */
  file?: string;
  line?: number;
  col?: number;
  /** `nodes[1].role`, `--nodes`; empty for a YAML syntax error. */
  field: string;
  /** The offending value as the user would write it (strings quoted); absent when it is missing. */
  value?: string;
  /** What is wrong, phrased to follow the value: `is not allowed`. */
  problem: string;
  /** What would be accepted. */
  allowed?: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ""}: ` : "";
  const field = i.field ? `${i.field}: ` : "";
  const what = i.value !== undefined ? `${i.value} ${i.problem}` : i.problem;
  const allowed = i.allowed ? `; allowed: ${i.allowed}` : "";
  return `${where}${field}${what}${allowed}`;
}

/** Bad config input: every problem found, reported together so one edit can fix them all. */
export class ConfigError extends UserError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], opts: { title?: string; hint?: string } = {}) {
    const title = opts.title ?? "invalid cluster config";
    const lines = issues.map(formatIssue);
    const message =
      lines.length === 1 ? `${title}: ${lines[0]}` : `${title} (${lines.length} problems):\n${lines.map((l) => `  - ${l}`).join("\n")}`;
    super(message, opts.hint);
    this.name = "ConfigError";
    this.issues = Object.freeze([...issues]);
  }
}

export type PathSegment = string | number;

/** `nodes[1].labels["example.com/tier"]`: dots for plain keys, brackets for indexes and odd keys. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A value as the user wrote it; collections are named rather than dumped. */
export function renderValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || v === undefined) return "an empty value";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}
