import type { KubeConfig } from "@kubernetes/client-node";
import { kubeProxyObjects, KUBE_PROXY_NAMESPACE, KUBE_PROXY_SELECTOR, type ManifestObject } from "../components/index.js";
import type { ClusterConfig } from "../config/index.js";
import { serverSideApply, waitForPodsReady } from "../kube/index.js";
import { imageRefs } from "../versions/versions.js";
import { apiServerEndpoint, type LoadBalancer, type PlacedNode } from "./topology.js";

/** kube-proxy's objects for this cluster: its config, the API server address its nodes use, the preloaded image. */
export function clusterKubeProxyObjects(config: ClusterConfig, nodes: PlacedNode[], loadBalancer?: LoadBalancer): ManifestObject[] {
  return kubeProxyObjects({
    cluster: config,
    apiServerEndpoint: apiServerEndpoint(nodes, loadBalancer),
    image: imageRefs(config.versions).kubeProxy,
  });
}

/**
 * Applies kube-proxy's objects, then waits until a pod of it is ready on each of the cluster's
 * `nodes`: watching the pods themselves sees them ready before the DaemonSet controller has
 * counted them in its status, and what waits on this (the addons) waits that much less.
 */
export async function startKubeProxy(kc: KubeConfig, objects: ManifestObject[], nodes: number, signal?: AbortSignal): Promise<void> {
  await serverSideApply(kc, objects, { signal });
  await waitForPodsReady(kc, KUBE_PROXY_NAMESPACE, KUBE_PROXY_SELECTOR, { min: nodes, timeoutMs: 300_000, signal });
}
