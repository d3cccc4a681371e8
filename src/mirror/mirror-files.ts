import { stringify } from "smol-toml";
import type { ContainerRuntime } from "../config/index.js";
import type { NodeDriver } from "../drivers/types.js";
import { rereadRegistries } from "../node/services.js";
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

const CRIO_DROP_INS = "/etc/containers/registries.conf.d";

/**
 * The mirror's file for the registry it serves, in the runtime's own form: containerd's host file, or a
 * drop-in of CRI-O's registries.conf that lists the mirror before the registry itself.
 */
function mirrorFile(runtime: ContainerRuntime, m: MirroredRegistry): { path: string; content: string } {
  const host = `${mirrorContainer(m.registry)}:${MIRROR_PORT}`;
  if (runtime === "containerd") return registryHostFile(m.registry, `http://${host}`, MARK);
  const content = stringify({ registry: [{ location: m.registry, mirror: [{ location: host, insecure: true }] }] });
  return { path: `${CRIO_DROP_INS}/60-kubeyard-mirror-${m.registry}.conf`, content: `${MARK}\n${content}` };
}

/** Where the runtime's mirror files are: a shell glob. */
const FILES: Record<ContainerRuntime, string> = {
  containerd: `${CERTS_DIR}/*/hosts.toml`,
  "cri-o": `${CRIO_DROP_INS}/60-kubeyard-mirror-*.conf`,
};

/**
 * Makes the node's registry files say exactly `mirrors`: writes theirs and removes those the mirror wrote
 * before for registries it no longer serves. containerd reads its host files at each pull; CRI-O is told to
 * read its drop-ins again. Files kubeyard did not write are never touched.
 */
export async function syncMirrorFiles(
  driver: NodeDriver,
  node: string,
  runtime: ContainerRuntime,
  mirrors: readonly MirroredRegistry[],
): Promise<void> {
  if (mirrors.length) {
    await driver.copyFiles(
      node,
      mirrors.map((m) => mirrorFile(runtime, m)),
    );
  }
  const keep = mirrors.map((m) => mirrorFile(runtime, m).path);
  // For each file whose first line is the mark and that is not one to keep: remove it, and containerd's folder.
  const script = `
    for f in ${FILES[runtime]}; do
      [ -f "$f" ] && [ "$(head -n1 "$f")" = "$1" ] || continue
      kept=0; for k in "$@"; do [ "$k" = "$f" ] && kept=1; done
      [ "$kept" = 1 ] && continue
      rm -f "$f"
      [ "$(dirname "$f")" = ${CRIO_DROP_INS} ] || rmdir --ignore-fail-on-non-empty "$(dirname "$f")"
    done`;
  const r = await driver.exec(node, ["sh", "-c", script, "sync-mirror-files", MARK, ...keep]);
  if (r.exitCode !== 0) throw new Error(`could not update the registry files on ${node}: ${r.stderr.trim()}`);
  await rereadRegistries(driver, node, runtime);
}
