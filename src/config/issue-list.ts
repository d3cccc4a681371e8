import { formatPath, renderValue, type ConfigIssue, type PathSegment } from "./issues.js";
import type { YamlSource } from "./yaml-source.js";

/** Where a setting came from, so a problem with it is reported where the user can fix it. */
export type Origin = { kind: "file"; path: readonly PathSegment[] } | { kind: "flag"; flag: string } | { kind: "default"; field: string };

export interface Sourced<T> {
  value: T;
  origin: Origin;
}

export interface IssueInput {
  /** The raw value; rendered as the user would write it. */
  value?: unknown;
  problem: string;
  allowed?: string;
  /** Point at the key rather than the value (unknown or misspelled keys). */
  at?: "key" | "value";
}

/** Collects issues from every check so they are reported together. */
export class IssueList {
  private readonly items: ConfigIssue[] = [];

  constructor(readonly src?: YamlSource) {}

  add(origin: Origin, input: IssueInput): void {
    const value = "value" in input ? renderValue(input.value) : undefined;
    const body = { value, problem: input.problem, allowed: input.allowed };
    if (origin.kind === "file" && this.src) {
      const { line, col } = this.src.locate(origin.path, input.at);
      this.items.push({ file: this.src.file, line, col, field: formatPath(origin.path), ...body });
    } else if (origin.kind === "flag") {
      this.items.push({ field: origin.flag, ...body });
    } else {
      const field = origin.kind === "file" ? formatPath(origin.path) : `${origin.field} (default)`;
      this.items.push({ field, ...body });
    }
  }

  /** A problem with a value written in the file at `path`. */
  file(path: readonly PathSegment[], input: IssueInput): void {
    this.add({ kind: "file", path }, input);
  }

  push(...issues: ConfigIssue[]): void {
    this.items.push(...issues);
  }

  get length(): number {
    return this.items.length;
  }

  /** File issues in file order first, then flag issues in the order found. */
  sorted(): ConfigIssue[] {
    const seen = new Set<string>();
    const unique = this.items.filter((i) => {
      const k = JSON.stringify(i);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const rank = (i: ConfigIssue) => (i.file ? 0 : 1);
    return unique
      .map((issue, n) => ({ issue, n }))
      .sort(
        (a, b) =>
          rank(a.issue) - rank(b.issue) ||
          (a.issue.line ?? 0) - (b.issue.line ?? 0) ||
          (a.issue.col ?? 0) - (b.issue.col ?? 0) ||
          a.n - b.n,
      )
      .map((x) => x.issue);
  }
}

/** How a setting's origin reads in a message about another setting: `podSubnet`, `--pod-subnet`. */
export function describeOrigin(o: Origin): string {
  if (o.kind === "file") return formatPath(o.path);
  if (o.kind === "flag") return o.flag;
  return `the default ${o.field}`;
}
