import { findVersion, imageRefs, NODE_IMAGES } from "../versions/versions.js";

/** The images kubeyard's node image holds for a Kubernetes version: a snapshot neither saves nor removes them. */
export function preloadedImages(kubernetesVersion: string): Set<string> {
  const v = findVersion(kubernetesVersion);
  return new Set<string>(v ? NODE_IMAGES.map((n) => imageRefs(v)[n]) : []);
}
