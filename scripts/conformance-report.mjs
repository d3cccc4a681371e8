// The summary of a conformance run: counts and each failure's name and first message line, read from
// the JSON reports ginkgo writes beside the JUnit ones (report_<phase>.json in the run's folder).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

const FAILED = new Set(["failed", "panicked", "interrupted", "aborted", "timedout"]);

/**
 * Counts the specs of every report in `dir`. A spec the filters left out is reported as skipped with
 * no message: only specs that ran and skipped themselves (with their reason) count as skipped.
 */
export async function summarizeReports(dir) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const failures = [];
  const files = (await readdir(dir)).filter((f) => /^report_.*\.json$/.test(f)).sort();
  for (const file of files) {
    for (const suite of JSON.parse(await readFile(path.join(dir, file), "utf8"))) {
      for (const spec of suite.SpecReports ?? []) {
        const name = [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText].filter(Boolean).join(" ");
        const message = spec.Failure?.Message ?? "";
        if (spec.LeafNodeType !== "It") {
          // Suite set-up and tear-down nodes count only when they fail (and then every spec fails with them).
          if (FAILED.has(spec.State)) failures.push({ name: `[${spec.LeafNodeType}] ${name}`, message });
          continue;
        }
        if (spec.State === "passed") counts.passed++;
        else if (FAILED.has(spec.State)) {
          counts.failed++;
          failures.push({ name, message });
        } else if (spec.State === "skipped" && message) counts.skipped++;
      }
    }
  }
  const lines = [
    `conformance: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (reports: ${files.join(", ") || "none"})`,
    ...failures.map((f) => `FAILED ${f.name}\n    ${firstLine(f.message)}`),
  ];
  return { ...counts, failures, text: lines.join("\n") + "\n" };
}

function firstLine(text) {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? "(no message)"
  );
}
