import type { ContainerRuntime } from "../../config/index.js";
import { containerdImages } from "./containerd.js";
import { crioImages } from "./crio.js";
import type { RuntimeImageStore } from "./types.js";

export type { NodeImage, RuntimeImageStore } from "./types.js";
export { parseCtrImages } from "./containerd.js";
export { parseCrictlImages } from "./crio.js";
export { runtimeVersion, describeRuntime, type RuntimeVersion } from "./version.js";

/** The image store of the runtime a cluster's nodes run. */
export function runtimeImages(runtime: ContainerRuntime): RuntimeImageStore {
  return runtime === "cri-o" ? crioImages : containerdImages;
}
