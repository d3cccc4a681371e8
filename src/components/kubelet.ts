import yaml from "js-yaml";
import { nodeRuntime, type ContainerRuntime } from "../config/index.js";
import { pkiPaths } from "../pki/layout.js";
import { CRIO_ENDPOINT } from "./crio.js";
import { renderArgs, type Flags } from "./args.js";
import { splitNodeLabels } from "./node-labels.js";
import { clusterCaFile, pathsOf } from "./paths.js";
import type { ComponentContext } from "./types.js";

export const CONTAINERD_ENDPOINT = "unix:///run/containerd/containerd.sock";

/** The CRI socket of the node's runtime. */
export function runtimeEndpoint(runtime: ContainerRuntime): string {
  return runtime === "cri-o" ? CRIO_ENDPOINT : CONTAINERD_ENDPOINT;
}

/**
 * The KubeletConfiguration (kubelet.config.k8s.io/v1beta1) of a node: everything the kubelet
 * takes from a file rather than from deprecated flags. Every field here exists in the kubelet of
 * each supported release (1.35 to 1.37). Choices that follow from nodes being containers on one
 * host:
 * - cgroupfs with a cgroup root of the node's own, because all nodes see the host's cgroup tree;
 * - failCgroupV1 false, because 1.35+ refuses cgroup v1 hosts by default and such hosts are common
 *   (this project's own machines among them);
 * - disk-based eviction and image garbage collection off: the nodes share the host's disk, so one
 *   node's pressure is every node's, and a full host disk is the user's to handle, not a reason
 *   to evict pods or delete preloaded images. Leaving mergeDefaultEvictionSettings at its default
 *   (false) turns the unlisted memory signal off too, for the same reason: the nodes share the
 *   host's memory and the kernel's OOM killer already guards it.
 * - certificates are issued by kubeyard, so the kubelet neither rotates nor requests them;
 * - on a control plane it starts before the API server and runs the control plane as static pods,
 *   on its own until the API server answers (as kubeadm's kubelet does).
 */
export function kubeletConfig(ctx: ComponentContext): string {
  const paths = pathsOf(ctx);
  const { node, cluster } = ctx;
  const serving = paths.pkiPair(pkiPaths.kubeletServing(node.name));
  const config: Record<string, unknown> = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: clusterCaFile(paths) },
    },
    authorization: { mode: "Webhook" },
    tlsCertFile: serving.cert,
    tlsPrivateKeyFile: serving.key,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    containerRuntimeEndpoint: runtimeEndpoint(nodeRuntime(cluster)),
    cgroupDriver: "cgroupfs",
    cgroupRoot: node.cgroupRoot,
    failCgroupV1: false,
    clusterDNS: [cluster.networking.dnsServiceIP],
    clusterDomain: cluster.networking.dnsDomain,
    resolvConf: node.resolvConf ?? "/etc/resolv.conf",
    failSwapOn: false,
    protectKernelDefaults: false,
    serializeImagePulls: false,
    imageGCHighThresholdPercent: 100,
    evictionHard: {
      "nodefs.available": "0%",
      "nodefs.inodesFree": "0%",
      "imagefs.available": "0%",
      "imagefs.inodesFree": "0%",
    },
    // Ephemeral-storage requests and emptyDir size limits keep working; usage is measured on the
    // node's own filesystem even though it is shared.
    localStorageCapacityIsolation: true,
    // Control-plane nodes' static pods; on other nodes the folder stays empty, as on kubeadm's.
    staticPodPath: paths.layout.manifestsDir,
    registerWithTaints: node.taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
  };
  if (Object.keys(cluster.featureGates).length > 0) config.featureGates = { ...cluster.featureGates };
  return yaml.dump(config, { lineWidth: -1, sortKeys: false });
}

/**
 * The kubelet's flags: only what has no config-file field. Labels the kubelet may not set on its
 * own Node are left out (see splitNodeLabels); the caller applies them through the API.
 */
export function kubeletArgs(ctx: ComponentContext): string[] {
  const paths = pathsOf(ctx);
  const { kubelet: labels } = splitNodeLabels(ctx.node.labels);
  const labelList = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
  const flags: Flags = [
    ["config", paths.kubeletConfig],
    ["kubeconfig", paths.kubeconfig("kubelet")],
    ["node-ip", ctx.node.ip],
    ["hostname-override", ctx.node.name],
    ...(labelList ? ([["node-labels", labelList]] as const) : []),
  ];
  return renderArgs("kubelet", flags, ctx.cluster.extraArgs.kubelet);
}
