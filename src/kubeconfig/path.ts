import os from "node:os";
import path from "node:path";

export interface KubeconfigPathOptions {
  /** A path the user named explicitly (a --kubeconfig flag); it wins over everything else. */
  explicit?: string;
  /** Only for tests: decides the $KUBECONFIG list separator (';' on Windows, ':' elsewhere). */
  platform?: NodeJS.Platform;
}

/**
 * The kubeconfig file kubeyard writes to: an explicit path, else the first non-empty entry of
 * $KUBECONFIG, else ~/.kube/config. Always absolute.
 *
 * kubectl, given several files in $KUBECONFIG, writes new entries to the first one that exists;
 * kubeyard always uses the first entry so that where it writes never depends on which files
 * happen to exist, and a current-context set there wins kubectl's merge (first file wins).
 */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env, options: KubeconfigPathOptions = {}): string {
  if (options.explicit) return path.resolve(options.explicit);
  const platform = options.platform ?? process.platform;
  const separator = platform === "win32" ? ";" : ":";
  const first = (env.KUBECONFIG ?? "").split(separator).find((entry) => entry.trim() !== "");
  if (first !== undefined) return path.resolve(first);
  return path.join(homeDir(env, platform), ".kube", "config");
}

function homeDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  // client-go reads HOME first (USERPROFILE on Windows) rather than the passwd entry; so do we,
  // which also lets tests point the default at a temp dir.
  const fromEnv = platform === "win32" ? env.USERPROFILE || env.HOME : env.HOME;
  return fromEnv || os.homedir();
}
