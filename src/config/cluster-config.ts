import type { ComponentVersions } from "../versions/versions.js";
import type { AddonPortRequests } from "./addon-ports.js";
import type { Component, ContainerRuntime, NodeRole, Protocol, TaintEffect } from "./schema.js";

/**
 * The validated, fully defaulted cluster config every other part of kubeyard works from. Built only
 * by resolveConfig, deeply frozen: nothing downstream has to check or default a field again.
 */
export interface ClusterConfig {
  /** The profile name, a DNS-1123 label; prefixes node names, names the kubeconfig context. */
  readonly name: string;
  /** "v1.37.1": always a full supported version. */
  readonly kubernetesVersion: string;
  /** The versions of everything that goes with that Kubernetes release. */
  readonly versions: ComponentVersions;
  /** The CRI runtime every node runs, fixed at creation; null when neither flag nor file chose one (containerd, see nodeRuntime). */
  readonly containerRuntime: ContainerRuntime | null;
  /** A user-chosen node image, or null for kubeyard's own node image for `kubernetesVersion`. */
  readonly nodeImage: string | null;
  readonly networking: Networking;
  /** Control-plane nodes first; `nodes[0]` is the one that initializes the cluster. */
  readonly nodes: readonly NodeConfig[];
  /** Given to every component. */
  readonly featureGates: Readonly<Record<string, boolean>>;
  /** Extra flags per component, names without "--"; every component has an entry, maybe empty. */
  readonly extraArgs: Readonly<Record<Component, Readonly<Record<string, string>>>>;
  readonly addons: readonly string[];
  /** Host ports of addons as the config asks for them; the ones chosen at creation are in the cluster's state. */
  readonly addonPorts: AddonPortRequests;
  /** The absolute path of the config file this came from, or null when there was none. */
  readonly configFile: string | null;
}

export interface Networking {
  readonly ipFamily: "ipv4" | "ipv6";
  /** Canonical CIDR, e.g. "10.244.0.0/16". */
  readonly podSubnet: string;
  readonly serviceSubnet: string;
  readonly dnsDomain: string;
  /** The 10th address of the service subnet, e.g. "10.96.0.10". */
  readonly dnsServiceIP: string;
  /** The first address of the service subnet: the `kubernetes` service, a SAN of the API server's certificate. */
  readonly kubernetesServiceIP: string;
  /** The prefix length of each node's pod range (kube-controller-manager --node-cidr-mask-size). */
  readonly nodeCidrMaskSize: number;
  /** The host address the API server port is published on. */
  readonly apiServerAddress: string;
  /** The host port, or 0 for a free one picked when the control plane is created. */
  readonly apiServerPort: number;
}

export interface NodeConfig {
  /** `<profile>-control-plane`, `<profile>-control-plane2`, `<profile>-worker`, `<profile>-worker2`, ... */
  readonly name: string;
  readonly role: NodeRole;
  /** This node's image: its own override, else the cluster's nodeImage (null = kubeyard's own). */
  readonly image: string | null;
  /** The labels the node should carry, including `node-role.kubernetes.io/control-plane` on control planes. */
  readonly labels: Readonly<Record<string, string>>;
  /** Including `node-role.kubernetes.io/control-plane:NoSchedule` on control planes when the cluster has workers. */
  readonly taints: readonly Taint[];
  readonly extraPortMappings: readonly PortMapping[];
  readonly extraMounts: readonly Mount[];
}

export interface Taint {
  readonly key: string;
  /** "" when the taint has no value. */
  readonly value: string;
  readonly effect: TaintEffect;
}

export interface PortMapping {
  readonly containerPort: number;
  /** 0 = a free port picked when the node is created. */
  readonly hostPort: number;
  readonly listenAddress: string;
  readonly protocol: Protocol;
}

export interface Mount {
  /** Absolute; a relative path in the file is taken from the file's folder. */
  readonly hostPath: string;
  readonly containerPath: string;
  readonly readOnly: boolean;
}

export const CONTROL_PLANE_ROLE_LABEL = "node-role.kubernetes.io/control-plane";
