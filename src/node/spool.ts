import { randomBytes } from "node:crypto";
import type { NodeDriver } from "../drivers/types.js";

/**
 * Copies a host file into the node under `spoolDir` (a folder on the node's /var volume: the engine
 * writes beneath a container's tmpfs mounts where nothing in the node sees it), hands its path in the
 * node to `use`, and removes it whatever happens.
 */
export async function withFileInNode<T>(
  driver: NodeDriver,
  node: string,
  hostFile: string,
  spoolDir: string,
  use: (inNode: string) => Promise<T>,
): Promise<T> {
  const inNode = `${spoolDir}/${randomBytes(6).toString("hex")}.tar`;
  try {
    await driver.copyFileIn(node, hostFile, inNode);
    return await use(inNode);
  } finally {
    await driver.exec(node, ["rm", "-f", inNode]).catch(() => undefined);
  }
}
