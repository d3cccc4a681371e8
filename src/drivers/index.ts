/**
 * The node drivers. Everything outside src/drivers asks for a driver here and sees only NodeDriver
 * (and its ImageStore); which engine runs the nodes stays in this folder.
 */
import type { NodeDriver } from "./types.js";

export type * from "./types.js";

/** `--driver`: an engine by name, or auto (the one that is there; see detectEndpoint). */
export const DRIVER_CHOICES = ["auto", "docker", "podman"] as const;
export type DriverChoice = (typeof DRIVER_CHOICES)[number];

export interface DriverOptions {
  /** Verbose progress: which engine answers, which privilege mode nodes run with, the engine's cgroup setup. */
  log?: (msg: string) => void;
}

/**
 * The driver for `choice`. Docker and Podman are both driven through the Docker API (Podman through its
 * Docker-compatible socket); the choice picks the socket. The engine is not checked yet (preflight does that).
 * Its module is loaded here, on demand: the engine's client library takes a good part of a second to import,
 * and commands that need no engine (--help) should not pay for it.
 */
export async function createDriver(choice: DriverChoice = "auto", opts: DriverOptions = {}): Promise<NodeDriver> {
  const [{ DockerDriver }, { connectEngine }, { detectEndpoint, endpointOf }] = await Promise.all([
    import("./docker/driver.js"),
    import("./docker/engine.js"),
    import("./docker/endpoint.js"),
  ]);
  const answers = (e: Parameters<typeof connectEngine>[0]) =>
    connectEngine(e)
      .ping()
      .then(
        () => true,
        () => false,
      );
  const endpoint = choice === "auto" ? await detectEndpoint(answers) : endpointOf(choice);
  return new DockerDriver({ ...opts, endpoint });
}
