import type { Command } from "commander";
import { exportSnapshot } from "../../src/ops/snapshot.js";

export default async function snapshotExport(_program: Command, name: string, file: string): Promise<void> {
  await exportSnapshot(name, file);
  process.stdout.write(`${file}: snapshot "${name}"\nOn the other machine: kubeyard snapshot import ${file}\n`);
}
