import { stringify } from "smol-toml";
import type { ComponentVersions } from "../versions/versions.js";
import { imageRefs } from "../versions/versions.js";

export const CRIO_SOCKET = "/var/run/crio/crio.sock";
export const CRIO_ENDPOINT = `unix://${CRIO_SOCKET}`;

/**
 * CRI-O's config for a node, the counterpart of containerdConfig: runc through kubeyard's crio-runc (which
 * fits a container to what a node without --privileged may give, as containerd's settings do), conmon,
 * cgroupfs (the kubelet's driver on these nodes), CNI from /opt/cni/bin, and the version's pause image
 * pinned so the kubelet never garbage-collects it. The store is containers-storage.conf's (see
 * containersStorageConfig), which kubeyard's image loader reads as well.
 */
export function crioConfig(v: ComponentVersions): string {
  const pause = imageRefs(v).pause;
  return stringify({
    crio: {
      api: { listen: CRIO_SOCKET },
      runtime: {
        default_runtime: "runc",
        cgroup_manager: "cgroupfs",
        pinns_path: "/usr/local/bin/pinns",
        // As containerd's enable_unprivileged_ports and enable_unprivileged_icmp: pods may bind low ports and ping.
        default_sysctls: ["net.ipv4.ip_unprivileged_port_start=0", "net.ipv4.ping_group_range=0 2147483647"],
        runtimes: {
          runc: {
            runtime_path: "/usr/local/bin/crio-runc",
            runtime_type: "oci",
            runtime_root: "/run/runc",
            monitor_path: "/usr/bin/conmon",
            monitor_cgroup: "pod",
          },
        },
      },
      image: {
        pause_image: pause,
        pinned_images: [pause],
        signature_policy: "/etc/containers/policy.json",
      },
      network: { network_dir: "/etc/cni/net.d/", plugin_dirs: ["/opt/cni/bin/"] },
    },
  });
}

/** The containers-storage config CRI-O and kubeyard's image loader share: overlay on the node's /var volume. */
export function containersStorageConfig(): string {
  return stringify({
    storage: {
      driver: "overlay",
      graphroot: "/var/lib/containers/storage",
      runroot: "/run/containers/storage",
    },
  });
}

/** Images are taken as they are (no signatures are checked), as containerd does. */
export function containersPolicy(): string {
  return `${JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }, null, 2)}\n`;
}

/** Short names ("busybox:1.36") mean Docker Hub, as they do for containerd and the kubelet. */
export function containersRegistriesConfig(): string {
  return stringify({ "unqualified-search-registries": ["docker.io"], "short-name-mode": "permissive" });
}
