import type { Command } from "commander";
import { listSnapshots, snapshotRuntime } from "../../src/ops/snapshot.js";
import { humanBytes, printJson, printTable, type OutputFormat } from "../ui/print.js";

export default async function snapshotList(_program: Command, opts: { output: OutputFormat }): Promise<void> {
  const snapshots = await listSnapshots();
  if (opts.output === "json") {
    // The per-file checksums are the snapshot's business; a listing shows what it holds.
    return printJson(snapshots.map((s) => ({ ...s, runtime: snapshotRuntime(s), files: undefined })));
  }
  if (!snapshots.length) return void process.stdout.write("No snapshots; `kubeyard snapshot save NAME` saves one.\n");
  printTable(
    ["NAME", "CLUSTER", "KUBERNETES", "RUNTIME", "NODES", "ADDONS", "SIZE", "SAVED"],
    snapshots.map((s) => [
      s.name,
      s.profile,
      s.kubernetesVersion,
      snapshotRuntime(s),
      String(s.nodes.length),
      s.addons.join(",") || "-",
      humanBytes(s.bytes),
      s.createdAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    ]),
  );
}
