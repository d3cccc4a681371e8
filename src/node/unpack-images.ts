import type { NodeDriver } from "../drivers/types.js";

/**
 * The node image holds its pod images as content only, and containerd unpacks an image onto the node's
 * own `/var` when a container first needs it: for the images a new cluster runs only once its API
 * server is ready (the scheduler, kube-proxy, CoreDNS, the storage provisioner), that took a few tenths
 * of a second inside each of those pods' start, one after another. Unpacked while the API server
 * starts, they are ready by then. Mounting an image unpacks it before anything is mounted (the mount
 * itself may fail: a one-layer image is bind-mounted from a folder this node cannot bind from), and the
 * view is dropped at once. Best effort: an image not unpacked here is unpacked on first use, as before.
 */
export async function unpackImages(driver: NodeDriver, node: string, refs: readonly string[]): Promise<void> {
  const script = [
    "dir=$(mktemp -d /run/kubeyard-unpack.XXXXXX)",
    'for ref in "$@"; do',
    '  ctr -n k8s.io images mount "$ref" "$dir" >/dev/null 2>&1',
    '  ctr -n k8s.io images unmount --rm "$dir" >/dev/null 2>&1',
    "done",
    'rmdir "$dir" 2>/dev/null',
    "exit 0",
  ].join("\n");
  await driver.exec(node, ["bash", "-c", script, "unpack", ...refs]);
}
