import path from "node:path";
import { pkiPaths, type CertKeyPaths } from "../pki/layout.js";
import { DEFAULT_LAYOUT, DEFAULT_PORTS, type ComponentContext, type ComponentPorts, type NodeLayout } from "./types.js";

/** The identities that get a kubeconfig file on a node. */
export type KubeconfigIdentity = "admin" | "controller-manager" | "scheduler" | "kubelet";

/** Absolute paths of everything the components read on a node, for one layout. */
export interface NodePaths {
  layout: NodeLayout;
  /** A file of the PKI, given by its path relative to the PKI dir (as in pkiPaths). */
  pki(relative: string): string;
  pkiPair(pair: CertKeyPaths): CertKeyPaths;
  kubeconfig(identity: KubeconfigIdentity): string;
  kubeletConfig: string;
  schedulerConfig: string;
  cniConflist: string;
  args(component: string): string;
  /** A static pod's manifest where the kubelet runs it from. */
  manifest(component: string): string;
  /** A static pod's manifest as the node's config writes it, before kubeyard starts it. */
  stagedManifest(component: string): string;
}

export function layoutOf(ctx: Pick<ComponentContext, "layout">): NodeLayout {
  return { ...DEFAULT_LAYOUT, ...ctx.layout };
}

export function portsOf(ctx: Pick<ComponentContext, "ports">): ComponentPorts {
  return { ...DEFAULT_PORTS, ...ctx.ports };
}

export function nodePaths(layout: NodeLayout): NodePaths {
  const pki = (relative: string) => path.posix.join(layout.pkiDir, relative);
  const k8s = (name: string) => path.posix.join(layout.kubernetesDir, name);
  return {
    layout,
    pki,
    pkiPair: (pair) => ({ cert: pki(pair.cert), key: pki(pair.key) }),
    kubeconfig: (identity) => k8s(`${identity}.conf`),
    kubeletConfig: k8s("kubelet-config.yaml"),
    schedulerConfig: k8s("kube-scheduler-config.yaml"),
    cniConflist: path.posix.join(layout.cniConfDir, "10-kubeyard.conflist"),
    args: (component) => path.posix.join(layout.argsDir, component),
    manifest: (component) => path.posix.join(layout.manifestsDir, `${component}.yaml`),
    stagedManifest: (component) => path.posix.join(layout.stagedManifestsDir, `${component}.yaml`),
  };
}

export function pathsOf(ctx: Pick<ComponentContext, "layout">): NodePaths {
  return nodePaths(layoutOf(ctx));
}

/** The PKI files of the cluster CA, used by nearly every component. */
export function clusterCaFile(paths: NodePaths): string {
  return paths.pki(pkiPaths.ca.cert);
}
