import os from "node:os";
import path from "node:path";

/** kubeyard's cache: artifacts and build outputs, shared by every profile. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBEYARD_CACHE_DIR) return path.resolve(env.KUBEYARD_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  return path.join(base, "kubeyard");
}

/** kubeyard's state: one folder per profile (PKI, rendered configs, what cannot be read back from the engine). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBEYARD_HOME) return path.resolve(env.KUBEYARD_HOME);
  const base = env.XDG_STATE_HOME ? path.resolve(env.XDG_STATE_HOME) : path.join(os.homedir(), ".local", "state");
  return path.join(base, "kubeyard");
}
