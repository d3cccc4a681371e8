import { existsSync } from "node:fs";
import { UserError } from "../../util/errors.js";

/** Engines kubeyard drives through the Docker API: Docker itself, and Podman through its Docker-compatible socket. */
export const ENGINE_KINDS = ["docker", "podman"] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** Where an engine's API answers: a local socket, or (socketPath unset) what DOCKER_HOST says. */
export interface EngineEndpoint {
  kind: EngineKind;
  socketPath?: string;
  /** The address as the user would write it, for messages. */
  where: string;
}

export const DOCKER_SOCKET = "/var/run/docker.sock";

export interface EndpointContext {
  env: NodeJS.ProcessEnv;
  uid: number;
  exists: (path: string) => boolean;
}

const ownContext = (): EndpointContext => ({ env: process.env, uid: process.getuid?.() ?? 0, exists: existsSync });

/** Podman's own service socket: the system one for root, the user's (podman.socket of `systemctl --user`) otherwise. */
export function podmanSocket(ctx: Pick<EndpointContext, "env" | "uid">): string {
  if (ctx.uid === 0) return "/run/podman/podman.sock";
  return `${ctx.env.XDG_RUNTIME_DIR || `/run/user/${ctx.uid}`}/podman/podman.sock`;
}

function unixPath(url: string, variable: string): string {
  if (!url.startsWith("unix://")) {
    throw new UserError(`${variable}=${url} is not a local socket.`, `kubeyard drives Podman through a unix:// socket; unset ${variable}.`);
  }
  return url.slice("unix://".length);
}

/**
 * The engine of `kind`. Docker: DOCKER_HOST if set, else the local socket. Podman: CONTAINER_HOST (Podman's
 * own variable) if set, else Podman's socket for this user; DOCKER_HOST is left to Docker.
 */
export function endpointOf(kind: EngineKind, ctx: Pick<EndpointContext, "env" | "uid"> = ownContext()): EngineEndpoint {
  if (kind === "docker") {
    const host = ctx.env.DOCKER_HOST;
    return host ? { kind, where: host } : { kind, socketPath: DOCKER_SOCKET, where: `unix://${DOCKER_SOCKET}` };
  }
  const path = ctx.env.CONTAINER_HOST ? unixPath(ctx.env.CONTAINER_HOST, "CONTAINER_HOST") : podmanSocket(ctx);
  return { kind, socketPath: path, where: `unix://${path}` };
}

/**
 * The engine to use when none is named: the one an environment variable points at (DOCKER_HOST, then
 * CONTAINER_HOST), else the one whose socket exists, Docker's first. `answers` settles the case where both
 * sockets exist: Docker when its socket answers, else Podman (as kind and minikube fall back to Podman).
 * With neither, Docker's (whose absence the preflight then explains).
 */
export async function detectEndpoint(
  answers: (e: EngineEndpoint) => Promise<boolean>,
  ctx: EndpointContext = ownContext(),
): Promise<EngineEndpoint> {
  if (ctx.env.DOCKER_HOST) return endpointOf("docker", ctx);
  if (ctx.env.CONTAINER_HOST) return endpointOf("podman", ctx);
  const docker = endpointOf("docker", ctx);
  const podman = endpointOf("podman", ctx);
  const haveDocker = ctx.exists(DOCKER_SOCKET);
  if (!ctx.exists(podman.socketPath!)) return docker;
  if (!haveDocker) return podman;
  return (await answers(docker)) ? docker : podman;
}
