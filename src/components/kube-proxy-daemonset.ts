import { renderArgs, type Flags } from "./args.js";
import { KUBE_PROXY_CONFIG_DIR, kubeProxyConfig, kubeProxyKubeconfig } from "./kube-proxy.js";
import type { ClusterSettings } from "./types.js";

/** A Kubernetes object as plain JSON, ready to apply. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export const KUBE_PROXY_NAMESPACE = "kube-system";
export const KUBE_PROXY_NAME = "kube-proxy";
const LABELS = { "k8s-app": "kube-proxy" };
/** The label selector of kube-proxy's pods. */
export const KUBE_PROXY_SELECTOR = "k8s-app=kube-proxy";
/** kube-proxy's health port (its default, on every address of the node). */
export const KUBE_PROXY_HEALTH_PORT = 10256;

export interface KubeProxyInputs {
  cluster: Pick<ClusterSettings, "networking" | "featureGates" | "extraArgs">;
  /** The URL the nodes reach the API server at (a control plane, or the load balancer). */
  apiServerEndpoint: string;
  /** The kube-proxy image, preloaded on every node. */
  image: string;
}

/**
 * kube-proxy as kubeadm installs it: a DaemonSet in kube-system with its config in a ConfigMap, its
 * own ServiceAccount, bound to system:node-proxier. One pod per node, nodes added later included;
 * it tolerates every taint, since a node whose Services do not work is broken whatever it is for.
 */
export function kubeProxyObjects(inputs: KubeProxyInputs): ManifestObject[] {
  const meta = { name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE, labels: LABELS };
  const flags: Flags = [
    ["config", `${KUBE_PROXY_CONFIG_DIR}/config.conf`],
    ["hostname-override", "$(NODE_NAME)"],
  ];
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "kubeadm:node-proxier", labels: LABELS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node-proxier" },
      subjects: [{ kind: "ServiceAccount", name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta,
      data: {
        "config.conf": kubeProxyConfig(inputs.cluster),
        "kubeconfig.conf": kubeProxyKubeconfig(inputs.apiServerEndpoint),
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta,
      spec: {
        selector: { matchLabels: LABELS },
        updateStrategy: { type: "RollingUpdate" },
        template: {
          metadata: { labels: LABELS },
          spec: {
            priorityClassName: "system-node-critical",
            // Its rules are the node's own; and it must not need a Service address to start.
            hostNetwork: true,
            serviceAccountName: KUBE_PROXY_NAME,
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { operator: "Exists" }],
            containers: [
              {
                name: "kube-proxy",
                image: inputs.image,
                imagePullPolicy: "IfNotPresent",
                command: ["/usr/local/bin/kube-proxy", ...renderArgs("kube-proxy", flags, inputs.cluster.extraArgs["kube-proxy"])],
                env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                securityContext: { privileged: true },
                volumeMounts: [
                  { name: "kube-proxy", mountPath: KUBE_PROXY_CONFIG_DIR },
                  // Shared with every other iptables user of the node (the kubelet, the CNI plugins).
                  { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                  { name: "lib-modules", mountPath: "/lib/modules", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "kube-proxy", configMap: { name: KUBE_PROXY_NAME } },
              { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
              // The host's modules when the node was given them (see the node container); else empty.
              { name: "lib-modules", hostPath: { path: "/lib/modules" } },
            ],
          },
        },
      },
    },
  ];
}
