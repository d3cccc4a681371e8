import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs } from "../../../src/versions/versions.js";

/** The images every node of the default version holds from its start (nothing to pull). */
export const NODE_IMAGES = imageRefs(findVersion(DEFAULT_KUBERNETES_VERSION)!);

/** The BusyBox image nodes hold for the local-path helper pods: the e2e tests' small shell. */
export const BUSYBOX = NODE_IMAGES.busybox;
