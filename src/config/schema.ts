/**
 * The cluster config file, version kubeyard.dev/v1alpha1. Every field but apiVersion and kind is
 * optional; flags given on the command line win over the file.
 *
 * ```yaml
 * apiVersion: kubeyard.dev/v1alpha1
 * kind: Cluster
 * name: dev                        # profile name: DNS-1123 label, <= 63 chars        --profile  (default kubeyard)
 * kubernetesVersion: v1.37.1       # "1.37" means its newest supported patch          --kubernetes-version
 * containerRuntime: cri-o          # containerd | cri-o; fixed at creation (default containerd)  --container-runtime
 * nodeImage: example.com/node:v1   # replaces kubeyard's own node image              --node-image
 * networking:
 *   podSubnet: 10.244.0.0/16       # IPv4 /8../24 or IPv6 /48../64 (each node gets a /24 or /64)  --pod-subnet
 *   serviceSubnet: 10.96.0.0/12    # IPv4 /12../28 or IPv6 /108../124; same family as pods          --service-subnet
 *   dnsDomain: cluster.local
 *   apiServerAddress: 127.0.0.1    # host address the API server port is published on --apiserver-address
 *   apiServerPort: 0               # 0 = a free port picked at start                  --apiserver-port
 * nodes:                           # a list of nodes ...
 *   - role: control-plane          # control-plane | worker (required)
 *     image: example.com/node:v1   # this node only; defaults to nodeImage
 *     labels: {tier: web}
 *     taints: [{key: k, value: v, effect: NoSchedule}]          # NoSchedule | PreferNoSchedule | NoExecute
 *     extraPortMappings:
 *       - {containerPort: 80, hostPort: 8080, listenAddress: 127.0.0.1, protocol: TCP}
 *         # hostPort 0 or omitted = a free port; listenAddress defaults to 127.0.0.1; TCP | UDP | SCTP
 *     extraMounts:
 *       - {hostPath: ./data, containerPath: /data, readOnly: false}   # relative hostPath = from this file
 *   - role: worker
 * # ... or counts, exactly like the flags:
 * # nodes: 3                       # all nodes, control planes included               --nodes
 * # controlPlanes: 1               # how many of them are control planes (default 1)  --control-planes
 * featureGates: {SomeGate: true}   # given to every component
 * extraArgs:                       # flags per component, without the leading "--"
 *   kube-apiserver: {v: "2"}       # etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
 * addons: [ingress]                # --addons
 * addonPorts:                      # host ports (on 127.0.0.1) of addons; see addon-ports.ts
 *   ingressHttp: 80                # left out: this number if free at start, else a free one
 *   ingressHttps: 443              # given: must be free (0 = a free port)
 *   registry: 5000
 *   ingressDns: 1053               # UDP and TCP
 * ```
 *
 * Structure (types, allowed values, unknown fields) is checked against the JSON Schema below; the
 * rules a schema cannot say (CIDR syntax and overlap, name syntax, port collisions, versions) are
 * in `checks.ts`. Each schema `description` is what an error message offers as "allowed"; `keyName`
 * is what a key of a mapping is called in a message about an unknown one (schema-check.ts).
 */

import { ADDON_PORT_NAMES } from "./addon-ports.js";

export const API_VERSION = "kubeyard.dev/v1alpha1";
export const KIND = "Cluster";
export const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"] as const;
export type Component = (typeof COMPONENTS)[number];
export const NODE_ROLES = ["control-plane", "worker"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];
export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const CONTAINER_RUNTIMES = ["containerd", "cri-o"] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];
export const isContainerRuntime = (v: unknown): v is ContainerRuntime => (CONTAINER_RUNTIMES as readonly unknown[]).includes(v);

/** Fields read as the text written even where YAML sees a number or boolean (see yaml-source.ts). */
export const CLUSTER_TEXT_FIELDS = [
  "name",
  "kubernetesVersion",
  "nodeImage",
  "nodes.*.image",
  "nodes.*.labels.*",
  "nodes.*.taints.*.value",
  "extraArgs.*.*",
] as const;

const text = (description: string) => ({ type: "string", description });
const port = (minimum: number, description: string) => ({ type: "integer", minimum, maximum: 65535, description });

const nodeSchema = {
  type: "object",
  description: "a node: a mapping with a role",
  required: ["role"],
  additionalProperties: false,
  properties: {
    role: { enum: [...NODE_ROLES], description: NODE_ROLES.join(", ") },
    image: text("an image reference"),
    labels: {
      type: "object",
      description: "a mapping of label keys to values",
      additionalProperties: text("a label value"),
    },
    taints: {
      type: "array",
      description: "a list of taints ({key, value, effect})",
      items: {
        type: "object",
        description: "a taint: {key, value, effect}",
        required: ["key", "effect"],
        additionalProperties: false,
        properties: {
          key: text("a taint key such as example.com/dedicated"),
          value: text("a taint value"),
          effect: { enum: [...TAINT_EFFECTS], description: TAINT_EFFECTS.join(", ") },
        },
      },
    },
    extraPortMappings: {
      type: "array",
      description: "a list of port mappings ({containerPort, hostPort, listenAddress, protocol})",
      items: {
        type: "object",
        description: "a port mapping: {containerPort, hostPort, listenAddress, protocol}",
        required: ["containerPort"],
        additionalProperties: false,
        properties: {
          containerPort: port(1, "a port number from 1 to 65535"),
          hostPort: port(0, "a port number from 0 to 65535 (0 = a free port)"),
          listenAddress: text("an IP address on the host"),
          protocol: { enum: [...PROTOCOLS], description: PROTOCOLS.join(", ") },
        },
      },
    },
    extraMounts: {
      type: "array",
      description: "a list of mounts ({hostPath, containerPath, readOnly})",
      items: {
        type: "object",
        description: "a mount: {hostPath, containerPath, readOnly}",
        required: ["hostPath", "containerPath"],
        additionalProperties: false,
        properties: {
          hostPath: text("a path on the host"),
          containerPath: text("an absolute path in the node"),
          readOnly: { type: "boolean", description: "true or false" },
        },
      },
    },
  },
} as const;

const argsSchema = {
  type: "object",
  description: 'a mapping of flag names (without "--") to values',
  additionalProperties: text("a flag value"),
} as const;

export const clusterFileSchema = {
  $id: "https://kubeyard.dev/schemas/cluster-v1alpha1.json",
  type: "object",
  description: "a mapping with apiVersion, kind and the cluster's settings",
  required: ["apiVersion", "kind"],
  additionalProperties: false,
  properties: {
    apiVersion: { const: API_VERSION, description: API_VERSION },
    kind: { const: KIND, description: KIND },
    name: text("a profile name (a DNS-1123 label)"),
    kubernetesVersion: text("a supported Kubernetes version"),
    containerRuntime: { enum: [...CONTAINER_RUNTIMES], description: CONTAINER_RUNTIMES.join(", ") },
    nodeImage: text("an image reference"),
    networking: {
      type: "object",
      description: "a mapping of network settings",
      additionalProperties: false,
      properties: {
        podSubnet: text("a CIDR range such as 10.244.0.0/16"),
        serviceSubnet: text("a CIDR range such as 10.96.0.0/12"),
        dnsDomain: text("a DNS domain such as cluster.local"),
        apiServerAddress: text("an IP address on the host such as 127.0.0.1"),
        apiServerPort: port(0, "a port number from 0 to 65535 (0 = a free port)"),
      },
    },
    nodes: {
      if: { type: "array" },
      then: { type: "array", minItems: 1, items: nodeSchema, description: "at least one node" },
      else: { type: "integer", minimum: 1, description: "a node count of at least 1, or a list of nodes" },
    },
    controlPlanes: { type: "integer", minimum: 1, description: "a control-plane count of at least 1" },
    featureGates: {
      type: "object",
      description: "a mapping of feature gate names to true or false",
      additionalProperties: { type: "boolean", description: "true or false" },
    },
    extraArgs: {
      type: "object",
      description: "a mapping of components to their extra flags",
      keyName: "component",
      additionalProperties: false,
      properties: Object.fromEntries(COMPONENTS.map((c) => [c, argsSchema])),
    },
    addons: {
      type: "array",
      description: "a list of addon names",
      items: text("an addon name"),
    },
    addonPorts: {
      type: "object",
      description: `a mapping of addon ports (${ADDON_PORT_NAMES.join(", ")}) to host port numbers`,
      additionalProperties: false,
      properties: Object.fromEntries(ADDON_PORT_NAMES.map((n) => [n, port(0, "a port number from 0 to 65535 (0 = a free port)")])),
    },
  },
} as const;
