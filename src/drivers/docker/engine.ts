import Docker from "dockerode";
import { UserError } from "../../util/errors.js";

export class EngineUnreachableError extends UserError {}

/** The Docker-API engine kubeyard talks to: DOCKER_HOST if set, else the local socket (Podman's compat socket works too). */
export function connectEngine(env: NodeJS.ProcessEnv = process.env): Docker {
  return new Docker(env.DOCKER_HOST ? undefined : { socketPath: "/var/run/docker.sock" });
}

/** Pings the engine and turns "nothing is listening" into what to do about it. */
export async function requireEngine(docker: Docker = connectEngine()): Promise<Docker> {
  try {
    await docker.ping();
    return docker;
  } catch (err) {
    const where = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    throw new EngineUnreachableError(
      `No container engine answers at ${where} (${(err as Error).message}).`,
      "Start Docker (e.g. `sudo systemctl start docker`, or run `dockerd` as root), or point DOCKER_HOST at a running engine or at Podman's socket (`systemctl --user start podman.socket`).",
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
