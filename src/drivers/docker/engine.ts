import Docker from "dockerode";
import { UserError } from "../../util/errors.js";
import { endpointOf, type EngineEndpoint, type EngineKind } from "./endpoint.js";

export class EngineUnreachableError extends UserError {}

/** A client of the engine at `endpoint` (by default Docker's: DOCKER_HOST if set, else the local socket). */
export function connectEngine(endpoint: EngineEndpoint = endpointOf("docker")): Docker {
  return new Docker(endpoint.socketPath ? { socketPath: endpoint.socketPath } : undefined);
}

const START_HINTS: Record<EngineKind, string> = {
  docker:
    "Start Docker (e.g. `sudo systemctl start docker`, or run `dockerd` as root), or point DOCKER_HOST at a running engine, " +
    "or use Podman (`--driver podman`).",
  podman:
    "Start Podman's API service: `sudo systemctl start podman.socket` as root, `systemctl --user start podman.socket` " +
    "rootless (or run `podman system service --time=0` yourself).",
};

/** Pings the engine and turns "nothing is listening" into what to do about it. */
export async function requireEngine(docker: Docker, endpoint: EngineEndpoint = endpointOf("docker")): Promise<Docker> {
  try {
    await docker.ping();
    return docker;
  } catch (err) {
    throw new EngineUnreachableError(
      `No ${endpoint.kind === "podman" ? "Podman service" : "container engine"} answers at ${endpoint.where} (${(err as Error).message}).`,
      START_HINTS[endpoint.kind],
    );
  }
}

/** Reads an engine's newline-delimited JSON progress stream to the end, failing on its error messages. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onLine?: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string }>) => {
        if (err) return reject(err);
        const failed = output.find((o) => o.error);
        if (failed) return reject(new Error(failed.error));
        resolve();
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        const text = (event.stream ?? event.status ?? "").trim();
        if (text && onLine) onLine(text);
      },
    );
  });
}
