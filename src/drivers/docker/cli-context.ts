import { createHash } from "node:crypto";
import { join } from "node:path";
import { UserError } from "../../util/errors.js";

/**
 * The docker CLI's current context, as `docker context use` leaves it: rootless Docker's set-up tool makes a
 * context ("rootless") for the user's socket and switches to it instead of setting DOCKER_HOST, so a launcher
 * that looked only at DOCKER_HOST would find no engine (or the system's) where `docker ps` finds the user's.
 */
export interface CliContextEnv {
  env: NodeJS.ProcessEnv;
  /** A file's text, or undefined when it does not exist. */
  read: (path: string) => string | undefined;
}

/** The docker CLI's configuration folder: DOCKER_CONFIG, else ~/.docker. */
function configDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  return env.HOME ? join(env.HOME, ".docker") : undefined;
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path} is not valid JSON (${(err as Error).message}).`, "Fix or remove it, or set DOCKER_HOST.");
  }
}

/** The context the CLI would use: DOCKER_CONTEXT, else config.json's currentContext; undefined for "default". */
function currentContext({ env, read }: CliContextEnv, dir: string): string | undefined {
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    const path = join(dir, "config.json");
    const text = read(path);
    const config = text === undefined ? undefined : (parseJson(text, path) as { currentContext?: unknown });
    name = typeof config?.currentContext === "string" ? config.currentContext : undefined;
  }
  return name && name !== "default" ? name : undefined;
}

/**
 * The Docker engine address of the CLI's current context (unix:///run/user/1000/docker.sock), or undefined
 * when it is the default context (the local socket). A named context that does not exist is an error, as it
 * is for the CLI.
 */
export function contextHost(ctx: CliContextEnv): string | undefined {
  const dir = configDir(ctx.env);
  if (!dir) return undefined;
  const name = currentContext(ctx, dir);
  if (!name) return undefined;
  // The CLI keeps each context's metadata in a folder named by the SHA-256 of its name.
  const path = join(dir, "contexts", "meta", createHash("sha256").update(name).digest("hex"), "meta.json");
  const text = ctx.read(path);
  if (text === undefined) {
    throw new UserError(
      `The docker CLI's current context "${name}" does not exist (no ${path}).`,
      "Choose another with `docker context use NAME`, or set DOCKER_HOST.",
    );
  }
  const meta = parseJson(text, path) as { Endpoints?: { docker?: { Host?: unknown } } };
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== "string" || !host) {
    throw new UserError(
      `The docker context "${name}" names no Docker endpoint (${path}).`,
      "Set DOCKER_HOST, or `docker context use default`.",
    );
  }
  return host;
}
