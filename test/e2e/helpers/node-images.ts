import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs } from "../../../src/versions/versions.js";

/**
 * The BusyBox image nodes hold (for the local-path helper pods) and the host's engine has too: the e2e
 * tests' small shell, run without a pull, and a base that a build FROM it needs no pull for.
 */
export const BUSYBOX = imageRefs(findVersion(DEFAULT_KUBERNETES_VERSION)!).busybox;
