import { DEFAULT_LAYOUT, type StaticPodComponent } from "../components/index.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/**
 * Starts control-plane components on a node by copying their staged manifests (written with the
 * node's config) where its kubelet runs static pods from; they stay there, so the kubelet runs them
 * again after the node restarts. Each lands under a hidden name first (the kubelet skips those) and
 * is renamed into place, so the kubelet never reads half a manifest.
 */
export async function enableStaticPods(driver: NodeDriver, node: string, components: readonly StaticPodComponent[]): Promise<void> {
  if (!components.length) return;
  const { stagedManifestsDir: staged, manifestsDir: live } = DEFAULT_LAYOUT;
  const script = [
    "set -e",
    `mkdir -p ${live}`,
    'for c in "$@"; do',
    `  cp "${staged}/$c.yaml" "${live}/.$c.yaml.tmp"`,
    `  mv -f "${live}/.$c.yaml.tmp" "${live}/$c.yaml"`,
    "done",
  ].join("\n");
  const r = await driver.exec(node, ["bash", "-c", script, "enable", ...components]);
  if (r.exitCode !== 0) throw new UserError(`could not start ${components.join(", ")} on ${node}: ${r.stderr || r.stdout}`);
}
