import type { KubeConfig } from "@kubernetes/client-node";
import { kubeProxyObjects, KUBE_PROXY_NAME, KUBE_PROXY_NAMESPACE, type ManifestObject } from "../components/index.js";
import type { ClusterConfig } from "../config/index.js";
import { serverSideApply, waitForDaemonSetReady } from "../kube/index.js";
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

/** Applies kube-proxy's objects, then waits until its DaemonSet runs a pod on every node. */
export async function startKubeProxy(kc: KubeConfig, objects: ManifestObject[], signal?: AbortSignal): Promise<void> {
  await serverSideApply(kc, objects, { signal });
  await waitForDaemonSetReady(kc, KUBE_PROXY_NAMESPACE, KUBE_PROXY_NAME, { timeoutMs: 300_000, signal });
}
