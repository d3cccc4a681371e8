import type { Command } from "commander";
import { removeSnapshot } from "../../src/ops/snapshot.js";

export default async function snapshotRm(_program: Command, name: string): Promise<void> {
  await removeSnapshot(name);
  process.stdout.write(`removed snapshot "${name}"\n`);
}
