import type { Command } from "commander";
import { importSnapshot } from "../../src/ops/snapshot.js";

export default async function snapshotImport(_program: Command, file: string): Promise<void> {
  const m = await importSnapshot(file);
  process.stdout.write(`snapshot "${m.name}" of cluster "${m.profile}" imported; \`kubeyard snapshot restore ${m.name}\` brings it back\n`);
}
