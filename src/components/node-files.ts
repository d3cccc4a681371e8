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
import type { ComponentContext } from "./types.js";

export interface NodeFile {
  /** Absolute path on the node. */
  path: string;
  content: string;
  mode: number;
}

/**
 * The components runit supervises on a node. kube-proxy is not one: like kubeadm's, it is a
 * DaemonSet's pod (kube-proxy-daemonset.ts), so it reaches nodes added later by itself.
 */
export type SupervisedComponent = Exclude<Component, "kube-proxy">;

/** What a role runs, in the groups that start one after another: etcd, then the control plane, then every node's. */
export const ETCD_COMPONENTS: readonly SupervisedComponent[] = ["etcd"];
export const CONTROL_PLANE_COMPONENTS: readonly SupervisedComponent[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];
export const NODE_COMPONENTS: readonly SupervisedComponent[] = ["kubelet"];
/** Every component a node may run under runit, each logging to /var/log/kubeyard/<name>/. */
export const SUPERVISED_COMPONENTS: readonly SupervisedComponent[] = [...ETCD_COMPONENTS, ...CONTROL_PLANE_COMPONENTS, ...NODE_COMPONENTS];

/** The components a node of this role runs, in the order they should start. */
export function componentsFor(role: NodeRole): SupervisedComponent[] {
  return role === "control-plane" ? [...ETCD_COMPONENTS, ...CONTROL_PLANE_COMPONENTS, ...NODE_COMPONENTS] : [...NODE_COMPONENTS];
}

/** Each component's arguments for this node, as written to its args file. */
export function componentArgs(ctx: ComponentContext, component: SupervisedComponent): string[] {
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
 * Every file the components of this node read, apart from the PKI: args files, config files,
 * kubeconfigs and the CNI config. Kubeconfigs name key files, so they are kept private like keys.
 */
export function nodeFiles(ctx: ComponentContext): NodeFile[] {
  const paths = pathsOf(ctx);
  const components = componentsFor(ctx.node.role);
  const identities: KubeconfigIdentity[] =
    ctx.node.role === "control-plane" ? ["admin", "controller-manager", "scheduler", "kubelet"] : ["kubelet"];
  const files: NodeFile[] = components.map((c) => ({ path: paths.args(c), content: argsFile(componentArgs(ctx, c)), mode: 0o644 }));
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
