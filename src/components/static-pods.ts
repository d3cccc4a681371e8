import path from "node:path";
import yaml from "js-yaml";
import type { ManifestObject } from "./kube-proxy-daemonset.js";
import type { StaticPodComponent } from "./node-files.js";
import { layoutOf } from "./paths.js";
import type { ComponentContext } from "./types.js";

/** The namespace of the control plane's mirror pods. */
export const STATIC_POD_NAMESPACE = "kube-system";

/**
 * A control-plane component as kubeadm runs it: a static pod of the node's kubelet, named
 * `<component>-<node>` in kube-system once its mirror pod is posted, on the host network, at the
 * priority of node-critical pods, with the flags and files it had as a process.
 *
 * The binary comes from an image (registry.k8s.io/<component>, built from kubeyard's own build and
 * preloaded in the node image) rather than from the node's root through a hostPath: `kubectl get
 * pods` then shows the images a kubeadm cluster shows, the kubelet sees a change of version as a
 * change of image, and the node holds one copy of each binary (they are not in its root).
 *
 * The component sees the node's Kubernetes config folder (certificates, kubeconfigs, config files)
 * read-only, and etcd its data folder; nothing else of the node.
 *
 * No liveness probe: with anonymous requests refused the API server's /livez answers a probe 401,
 * and a component that fails exits and is restarted by the kubelet anyway. No resource requests:
 * every node reports all of the host's CPUs, which the nodes share, so requests would only keep
 * that much from the workloads on a control plane.
 */
export function staticPodManifest(ctx: ComponentContext, component: StaticPodComponent, args: readonly string[]): ManifestObject {
  if (!ctx.images) throw new Error(`rendering the ${component} static pod of ${ctx.node.name} needs the control plane's images`);
  const layout = layoutOf(ctx);
  const dirs = [layout.kubernetesDir, ...(isInside(layout.pkiDir, layout.kubernetesDir) ? [] : [layout.pkiDir])];
  const volumes = dirs.map((dir, i) => ({ name: `k8s-${i}`, hostPath: { path: dir, type: "Directory" }, mountPath: dir, readOnly: true }));
  if (component === "etcd") {
    volumes.push({
      name: "etcd-data",
      hostPath: { path: layout.etcdDataDir, type: "DirectoryOrCreate" },
      mountPath: layout.etcdDataDir,
      readOnly: false,
    });
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: component,
      namespace: STATIC_POD_NAMESPACE,
      labels: { component, tier: "control-plane" },
    },
    spec: {
      hostNetwork: true,
      priorityClassName: "system-node-critical",
      containers: [
        {
          name: component,
          image: ctx.images[component],
          imagePullPolicy: "IfNotPresent",
          command: [`/usr/local/bin/${component}`, ...args],
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: v.readOnly })),
        },
      ],
      volumes: volumes.map((v) => ({ name: v.name, hostPath: v.hostPath })),
    },
  };
}

/** The manifest file the kubelet reads. */
export function renderStaticPod(manifest: ManifestObject): string {
  return yaml.dump(manifest, { lineWidth: -1, noRefs: true });
}

function isInside(child: string, parent: string): boolean {
  const rel = path.posix.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.posix.isAbsolute(rel));
}
