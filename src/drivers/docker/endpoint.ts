import { existsSync, readFileSync } from "node:fs";
import { UserError } from "../../util/errors.js";
import { contextHost } from "./cli-context.js";

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
  /** A file's text, or undefined when it does not exist (the docker CLI's context files). */
  read: (path: string) => string | undefined;
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

const ownContext = (): EndpointContext => ({ env: process.env, uid: process.getuid?.() ?? 0, exists: existsSync, read: readIfThere });

type Resolving = Pick<EndpointContext, "env" | "uid" | "read">;

/** Podman's own service socket: the system one for root, the user's (podman.socket of `systemctl --user`) otherwise. */
export function podmanSocket(ctx: Pick<EndpointContext, "env" | "uid">): string {
  if (ctx.uid === 0) return "/run/podman/podman.sock";
  return `${ctx.env.XDG_RUNTIME_DIR || `/run/user/${ctx.uid}`}/podman/podman.sock`;
}

/** The path of a unix:// address; any other address is refused with `refusal`. */
function unixPath(url: string, refusal: () => UserError): string {
  if (!url.startsWith("unix://")) throw refusal();
  return url.slice("unix://".length);
}

/** Docker as its CLI would find it: DOCKER_HOST, else the current context's socket, else the local socket. */
function dockerEndpoint(ctx: Resolving): EngineEndpoint {
  const kind = "docker";
  if (ctx.env.DOCKER_HOST) return { kind, where: ctx.env.DOCKER_HOST };
  const host = contextHost(ctx);
  if (host === undefined) return { kind, socketPath: DOCKER_SOCKET, where: `unix://${DOCKER_SOCKET}` };
  const refusal = () =>
    new UserError(
      `The docker CLI's current context points at ${host}; kubeyard follows a context only to a local unix:// socket.`,
      `Set DOCKER_HOST=${host} (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH if it needs TLS).`,
    );
  return { kind, socketPath: unixPath(host, refusal), where: host };
}

/**
 * The engine of `kind`. Docker: as its CLI finds it (DOCKER_HOST, the current context, the local socket).
 * Podman: CONTAINER_HOST (Podman's own variable) if set, else Podman's socket for this user; DOCKER_HOST is
 * left to Docker.
 */
export function endpointOf(kind: EngineKind, ctx: Resolving = ownContext()): EngineEndpoint {
  if (kind === "docker") return dockerEndpoint(ctx);
  const variable = ctx.env.CONTAINER_HOST;
  const refusal = () =>
    new UserError(
      `CONTAINER_HOST=${variable} is not a local socket.`,
      "kubeyard drives Podman through a unix:// socket; unset CONTAINER_HOST.",
    );
  const path = variable ? unixPath(variable, refusal) : podmanSocket(ctx);
  return { kind, socketPath: path, where: `unix://${path}` };
}

/**
 * The engine to use when none is named: the one an environment variable points at (DOCKER_HOST, then
 * CONTAINER_HOST), else the one whose socket exists (Docker's as its CLI's current context names it),
 * Docker's first. `answers` settles the case where both sockets exist: Docker when its socket answers,
 * else Podman (as kind and minikube fall back to Podman).
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
  const haveDocker = ctx.exists(docker.socketPath!);
  if (!ctx.exists(podman.socketPath!)) return docker;
  if (!haveDocker) return podman;
  return (await answers(docker)) ? docker : podman;
}
