import type { Component, NodeRole } from "../config/index.js";
import { argsFile } from "./args.js";
import { cniConflist } from "./cni.js";
import { etcdArgs } from "./etcd.js";
import { kubeApiserverArgs } from "./kube-apiserver.js";
import { kubeControllerManagerArgs } from "./kube-controller-manager.js";
import { kubeSchedulerArgs, kubeSchedulerConfig } from "./kube-scheduler.js";
import { componentKubeconfig } from "./kubeconfigs.js";
import { kubeletArgs, kubeletConfig } from "./kubelet.js";
import { pathsOf, type KubeconfigIdentity } from "./paths.js";
import { renderStaticPod, staticPodManifest } from "./static-pods.js";
import type { ComponentContext } from "./types.js";

export interface NodeFile {
  /** Absolute path on the node. */
  path: string;
  content: string;
  mode: number;
}

/** The control plane's components: static pods of a control-plane node's kubelet (static-pods.ts), as kubeadm runs them. */
export type StaticPodComponent = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler";

/**
 * The components runit supervises on a node: the kubelet, which runs the rest. kube-proxy is a
 * DaemonSet's pod (kube-proxy-daemonset.ts), so it reaches nodes added later by itself.
 */
export type SupervisedComponent = Exclude<Component, "kube-proxy" | StaticPodComponent>;

/**
 * What a role runs, in the groups that start one after another: etcd, then the control plane (both
 * static pods, started by placing their manifests), and every node's kubelet, which on a control
 * plane starts first because it runs the other two.
 */
export const ETCD_COMPONENTS: readonly StaticPodComponent[] = ["etcd"];
export const CONTROL_PLANE_COMPONENTS: readonly StaticPodComponent[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];
export const NODE_COMPONENTS: readonly SupervisedComponent[] = ["kubelet"];
/** Every component a node runs under runit, each logging to /var/log/kubeyard/<name>/. */
export const SUPERVISED_COMPONENTS: readonly SupervisedComponent[] = [...NODE_COMPONENTS];
/** Every static pod of a control plane; each logs where the kubelet puts its pods' logs. */
export const STATIC_POD_COMPONENTS: readonly StaticPodComponent[] = [...ETCD_COMPONENTS, ...CONTROL_PLANE_COMPONENTS];

/** The components a node of this role runs. */
export function componentsFor(role: NodeRole): (StaticPodComponent | SupervisedComponent)[] {
  return role === "control-plane" ? [...ETCD_COMPONENTS, ...CONTROL_PLANE_COMPONENTS, ...NODE_COMPONENTS] : [...NODE_COMPONENTS];
}

/** Each component's arguments for this node: its runit service's args file, or its static pod's command. */
export function componentArgs(ctx: ComponentContext, component: StaticPodComponent | SupervisedComponent): string[] {
  switch (component) {
    case "etcd":
      return etcdArgs(ctx);
    case "kube-apiserver":
      return kubeApiserverArgs(ctx);
    case "kube-controller-manager":
      return kubeControllerManagerArgs(ctx);
    case "kube-scheduler":
      return kubeSchedulerArgs(ctx);
    case "kubelet":
      return kubeletArgs(ctx);
  }
}

/**
 * Every file the components of this node read, apart from the PKI: the kubelet's args file, the
 * static pods' manifests (staged: kubeyard moves each where the kubelet runs it when its turn
 * comes), config files, kubeconfigs and the CNI config. Kubeconfigs name key files, so they are
 * kept private like keys.
 */
export function nodeFiles(ctx: ComponentContext): NodeFile[] {
  const paths = pathsOf(ctx);
  const controlPlane = ctx.node.role === "control-plane";
  const identities: KubeconfigIdentity[] = controlPlane ? ["admin", "controller-manager", "scheduler", "kubelet"] : ["kubelet"];
  const files: NodeFile[] = NODE_COMPONENTS.map((c) => ({ path: paths.args(c), content: argsFile(componentArgs(ctx, c)), mode: 0o644 }));
  for (const c of controlPlane ? STATIC_POD_COMPONENTS : []) {
    const manifest = renderStaticPod(staticPodManifest(ctx, c, componentArgs(ctx, c)));
    files.push({ path: paths.stagedManifest(c), content: manifest, mode: 0o644 });
  }
  for (const identity of identities) {
    files.push({ path: paths.kubeconfig(identity), content: componentKubeconfig(ctx, identity), mode: 0o600 });
  }
  files.push({ path: paths.kubeletConfig, content: kubeletConfig(ctx), mode: 0o644 });
  if (ctx.node.role === "control-plane") {
    files.push({ path: paths.schedulerConfig, content: kubeSchedulerConfig(ctx), mode: 0o644 });
  }
  files.push({ path: paths.cniConflist, content: cniConflist(ctx.node.podCIDR), mode: 0o644 });
  return files;
}
