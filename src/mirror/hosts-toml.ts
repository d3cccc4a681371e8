import type { NodeDriver } from "../drivers/types.js";
import { MIRROR_PORT, mirrorContainer, type MirroredRegistry } from "./registries.js";

const CERTS_DIR = "/etc/containerd/certs.d";
/** The first line of every file the mirror writes: how kubeyard later finds its own files, and only them. */
const MARK = "# Written by kubeyard registry-mirror; removed by registry-mirror stop.";

/** The server containerd falls back to when the mirror does not answer. */
function serverOf(registry: string): string {
  return registry === "docker.io" ? "https://registry-1.docker.io" : `https://${registry}`;
}

/**
 * containerd's host file for `registry`: pull and resolve at `host` (a URL) first, else from the
 * registry itself. `mark`, when given, is its first line.
 */
export function registryHostFile(registry: string, host: string, mark?: string): { path: string; content: string } {
  const lines = [`server = "${serverOf(registry)}"`, "", `[host."${host}"]`, `  capabilities = ["pull", "resolve"]`, ""];
  return { path: `${CERTS_DIR}/${registry}/hosts.toml`, content: [...(mark ? [mark] : []), ...lines].join("\n") };
}

/** The mirror's host file for the registry it serves. */
function mirrorHostFile(m: MirroredRegistry): { path: string; content: string } {
  return registryHostFile(m.registry, `http://${mirrorContainer(m.registry)}:${MIRROR_PORT}`, MARK);
}

/**
 * Makes the node's registry host files say exactly `mirrors`: writes theirs and removes those the
 * mirror wrote before for registries it no longer serves. containerd reads them at each pull, so
 * nothing restarts. Files kubeyard did not write are never touched.
 */
export async function syncHostsFiles(driver: NodeDriver, node: string, mirrors: readonly MirroredRegistry[]): Promise<void> {
  if (mirrors.length) {
    await driver.copyFiles(node, mirrors.map(mirrorHostFile));
  }
  const keep = mirrors.map((m) => mirrorHostFile(m).path);
  // For each host file whose first line is the mark and that is not one to keep: remove it and its folder.
  const script = `
    for f in ${CERTS_DIR}/*/hosts.toml; do
      [ -f "$f" ] && [ "$(head -n1 "$f")" = "$1" ] || continue
      kept=0; for k in "$@"; do [ "$k" = "$f" ] && kept=1; done
      [ "$kept" = 1 ] && continue
      rm -f "$f" && rmdir --ignore-fail-on-non-empty "$(dirname "$f")"
    done`;
  const r = await driver.exec(node, ["sh", "-c", script, "sync-hosts-files", MARK, ...keep]);
  if (r.exitCode !== 0) throw new Error(`could not update the registry host files on ${node}: ${r.stderr.trim()}`);
}
