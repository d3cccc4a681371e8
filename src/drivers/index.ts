/**
 * The node drivers. Everything outside src/drivers asks for a driver here and sees only NodeDriver.
 */
import { DockerDriver, type DockerDriverOptions } from "./docker/driver.js";
import type { NodeDriver } from "./types.js";

export type * from "./types.js";
export { DockerDriver, type DockerDriverOptions } from "./docker/driver.js";
export { EngineUnreachableError } from "./docker/engine.js";
export { engineInfo, type EngineFacts } from "./docker/engine-info.js";
export { LABEL_CLUSTER, LABEL_NODE, LABEL_ROLE } from "./docker/labels.js";
export { networkName } from "./docker/network.js";

export type DriverName = "docker";

/** The driver for `name`; only Docker-API engines so far (Podman through its Docker-compatible socket). */
export function createDriver(name: DriverName = "docker", opts: DockerDriverOptions = {}): NodeDriver {
  switch (name) {
    case "docker":
      return new DockerDriver(opts);
  }
}
