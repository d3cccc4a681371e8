import type { NodeDriver } from "../drivers/types.js";
import { MIRROR_PORT, mirrorContainer, type MirroredRegistry } from "./registries.js";

const CERTS_DIR = "/etc/containerd/certs.d";
/** The first line of every file the mirror writes: how kubeyard later finds its own files, and only them. */
const MARK = "# Written by kubeyard registry-mirror; removed by registry-mirror stop.";

/** The server containerd falls back to when the mirror does not answer. */
function serverOf(registry: string): string {
  return registry === "docker.io" ? "https://registry-1.docker.io" : `https://${registry}`;
}

export function hostsTomlPath(registry: string): string {
  return `${CERTS_DIR}/${registry}/hosts.toml`;
}

/** containerd's registry host file: pull and resolve through the mirror first, else from the registry itself. */
export function hostsToml(m: MirroredRegistry): string {
  return [
    MARK,
    `server = "${serverOf(m.registry)}"`,
    "",
    `[host."http://${mirrorContainer(m.registry)}:${MIRROR_PORT}"]`,
    `  capabilities = ["pull", "resolve"]`,
    "",
  ].join("\n");
}

/**
 * Makes the node's registry host files say exactly `mirrors`: writes theirs and removes those the
 * mirror wrote before for registries it no longer serves. containerd reads them at each pull, so
 * nothing restarts. Files kubeyard did not write are never touched.
 */
export async function syncHostsFiles(driver: NodeDriver, node: string, mirrors: readonly MirroredRegistry[]): Promise<void> {
  if (mirrors.length) {
    await driver.copyFiles(
      node,
      mirrors.map((m) => ({ path: hostsTomlPath(m.registry), content: hostsToml(m) })),
    );
  }
  const keep = mirrors.map((m) => hostsTomlPath(m.registry));
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
