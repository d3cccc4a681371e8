import type { Command } from "commander";
import { registryMirrorStatus, type MirrorStatus } from "../../src/ops/mirror.js";
import { printJson, printTable, type OutputFormat } from "../ui/print.js";
import { driverFor } from "./common.js";

export default async function registryMirrorStatusAction(program: Command, opts: { output: OutputFormat }): Promise<void> {
  const mirrors = await registryMirrorStatus(await driverFor(program, { profile: false }));
  if (opts.output === "json") return printJson(mirrors);
  if (!mirrors.length) return void process.stdout.write("No registry mirror runs; `kubeyard registry-mirror start` starts one.\n");
  printMirrors(mirrors);
}

export function printMirrors(mirrors: MirrorStatus[]): void {
  printTable(
    ["REGISTRY", "UPSTREAM", "STATE", "CONTAINER", "CLUSTERS"],
    mirrors.map((m) => [m.registry, m.upstream, m.state, m.container, m.clusters.join(",") || "-"]),
  );
}
