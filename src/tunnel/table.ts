import type { TunnelRow } from "./tunnel.js";

const HEAD = ["SERVICE", "EXTERNAL-IP", "PORTS", "BACKENDS", "PROBLEM"];

function cells(r: TunnelRow): string[] {
  return [r.service, r.address, r.ports, String(r.backends), r.problem];
}

/** The tunnel's table, aligned, for a terminal (redrawn in place on each change). */
export function formatRows(rows: readonly TunnelRow[]): string {
  if (!rows.length) return "no LoadBalancer services yet\n";
  const all = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return (
    all
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/**
 * Plain lines for output that is no terminal: one per Service that appeared or changed, one per
 * Service that went away, e.g. `default/web 127.100.0.1 80/TCP backends=3`.
 */
export function rowLines(before: readonly TunnelRow[], after: readonly TunnelRow[]): string[] {
  const lines: string[] = [];
  const old = new Map(before.map((r) => [r.service, JSON.stringify(r)]));
  for (const r of after) {
    if (old.get(r.service) === JSON.stringify(r)) continue;
    lines.push(`${r.service} ${r.address} ${r.ports} backends=${r.backends}${r.problem ? ` problem: ${r.problem}` : ""}`);
  }
  for (const r of before) if (!after.some((a) => a.service === r.service)) lines.push(`${r.service} removed`);
  return lines;
}
