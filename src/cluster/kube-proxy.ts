import { kubeProxyObjects, type ManifestObject } from "../components/index.js";
import type { ClusterConfig } from "../config/index.js";
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
