import type { Command } from "commander";
import { saveSnapshot } from "../../src/ops/snapshot.js";
import { humanBytes } from "../ui/print.js";
import { stepRunner } from "../ui/tasks.js";
import { driverFor, globals } from "./common.js";

export default async function snapshotSave(program: Command, name: string): Promise<void> {
  const g = globals(program);
  const m = await saveSnapshot(await driverFor(program), g.profile, name, stepRunner({ verbose: g.verbose }));
  const bytes = Object.values(m.files).reduce((n, f) => n + f.bytes, 0);
  const images = m.nodes.reduce((n, node) => n + node.images.length, 0);
  process.stdout.write(
    `snapshot "${name}" of cluster "${g.profile}": ${m.nodes.length} node${m.nodes.length === 1 ? "" : "s"}, ` +
      `${images} image${images === 1 ? "" : "s"}, ${humanBytes(bytes)}; the nodes were paused ${(m.pausedMs / 1000).toFixed(1)} s\n` +
      `Back to it with: kubeyard snapshot restore ${name}\n`,
  );
}
