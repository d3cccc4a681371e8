import type { ContainerRuntime } from "../../config/index.js";
import type { NodeDriver } from "../../drivers/types.js";

/** A node's CRI runtime as it reports itself; version is absent while the node does not run. */
export interface RuntimeVersion {
  name: ContainerRuntime;
  version?: string;
}

/** What `containerd --version` ("containerd <module> v2.2.1 <commit>") and `crio --version` ("crio version 1.36.3") say. */
const VERSION = /\bv?(\d+\.\d+\.\d+\S*)/;

/** Asks the node's runtime binary its version: no socket needed, so it answers while the runtime starts too. */
export async function runtimeVersion(
  driver: NodeDriver,
  node: string,
  runtime: ContainerRuntime,
  running: boolean,
): Promise<RuntimeVersion> {
  if (!running) return { name: runtime };
  const r = await driver.exec(node, [runtime === "cri-o" ? "crio" : "containerd", "--version"]).catch(() => undefined);
  const version = r?.exitCode === 0 ? VERSION.exec(r.stdout.split("\n")[0] ?? "")?.[1] : undefined;
  return version ? { name: runtime, version } : { name: runtime };
}

/** "cri-o 1.36.3", or the name alone when the version is not known. */
export function describeRuntime(r: RuntimeVersion): string {
  return r.version ? `${r.name} ${r.version}` : r.name;
}
