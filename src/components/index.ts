// The flags and config files of every Kubernetes component on a node, rendered from the cluster
// config and the node's facts. Pure functions: writing them into a node is the caller's job.
export {
  DEFAULT_LAYOUT,
  DEFAULT_PORTS,
  type ClusterSettings,
  type ComponentContext,
  type ComponentPorts,
  type ControlPlaneMember,
  type NodeFacts,
  type NodeLayout,
  type PodNetworkPeer,
  type StaticPodImages,
} from "./types.js";
export { podNetworkHook, POD_NETWORK_HOOK, POD_NETWORK_HOOK_NEXT, POD_MASQ_CHAIN } from "./pod-network.js";
export { nodePaths, pathsOf, portsOf, layoutOf, type NodePaths, type KubeconfigIdentity } from "./paths.js";
export { renderArgs, argsFile, featureGatesValue, hostPort, httpsURL, type Flags } from "./args.js";
export { etcdArgs, ETCD_QUOTA_BACKEND_BYTES } from "./etcd.js";
export { kubeApiserverArgs, serviceAccountIssuer } from "./kube-apiserver.js";
export { kubeControllerManagerArgs } from "./kube-controller-manager.js";
export { kubeSchedulerArgs, kubeSchedulerConfig } from "./kube-scheduler.js";
export { kubeletArgs, kubeletConfig, runtimeEndpoint, CONTAINERD_ENDPOINT } from "./kubelet.js";
export { kubeProxyConfig, kubeProxyKubeconfig, KUBE_PROXY_CONFIG_DIR } from "./kube-proxy.js";
export {
  kubeProxyObjects,
  KUBE_PROXY_NAME,
  KUBE_PROXY_NAMESPACE,
  KUBE_PROXY_SELECTOR,
  KUBE_PROXY_HEALTH_PORT,
  type KubeProxyInputs,
  type ManifestObject,
} from "./kube-proxy-daemonset.js";
export { componentKubeconfig, renderFileKubeconfig, type KubeconfigSpec } from "./kubeconfigs.js";
export { cniConflist, nodePodCIDR, CNI_NETWORK_NAME, CNI_BRIDGE } from "./cni.js";
export { kubeletMaySetLabel, splitNodeLabels } from "./node-labels.js";
export {
  nodeFiles,
  componentsFor,
  componentArgs,
  ETCD_COMPONENTS,
  CONTROL_PLANE_COMPONENTS,
  NODE_COMPONENTS,
  SUPERVISED_COMPONENTS,
  STATIC_POD_COMPONENTS,
  type NodeFile,
  type StaticPodComponent,
  type SupervisedComponent,
} from "./node-files.js";
export { staticPodManifest, renderStaticPod, STATIC_POD_NAMESPACE } from "./static-pods.js";
export { containerdConfig } from "./containerd.js";
export { crioConfig, containersStorageConfig, containersPolicy, containersRegistriesConfig, CRIO_ENDPOINT, CRIO_SOCKET } from "./crio.js";
export { haproxyConfig, HAPROXY_CONFIG } from "./load-balancer.js";
