/**
 * The node drivers. Everything outside src/drivers asks for a driver here and sees only NodeDriver
 * (and its ImageStore); which engine runs the nodes stays in this folder.
 */
import type { NodeDriver } from "./types.js";

export type * from "./types.js";

export type DriverName = "docker";

export interface DriverOptions {
  /** Verbose progress: which privilege mode nodes run with, the engine's cgroup setup. */
  log?: (msg: string) => void;
}

/**
 * The driver for `name`; only Docker-API engines so far (Podman through its Docker-compatible socket).
 * It is not checked yet (preflight does that). Its module is loaded here, on demand: the engine's
 * client library takes a good part of a second to import, and commands that need no engine (--help)
 * should not pay for it.
 */
export async function createDriver(name: DriverName = "docker", opts: DriverOptions = {}): Promise<NodeDriver> {
  switch (name) {
    case "docker": {
      const { DockerDriver } = await import("./docker/driver.js");
      return new DockerDriver(opts);
    }
  }
}
