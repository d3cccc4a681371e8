import { nodeImageTag } from "../artifacts/node-image.js";
import type { ClusterConfig } from "../config/index.js";

/** The image the cluster's nodes run unless a node names its own. */
export function nodeImageFor(config: ClusterConfig): string {
  return config.nodeImage ?? nodeImageTag(config.versions);
}
