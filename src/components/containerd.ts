import { stringify } from "smol-toml";
import type { ComponentVersions } from "../versions/versions.js";
import { imageRefs } from "../versions/versions.js";

/**
 * containerd's config (version 3, containerd 2.x) for a node: the CRI plugin with runc, cgroupfs
 * (the kubelet's driver on these nodes), CNI from /opt/cni/bin, and the version's pause image pinned
 * so the kubelet never garbage-collects it. Registry hosts come from /etc/containerd/certs.d.
 */
export function containerdConfig(v: ComponentVersions): string {
  return stringify({
    version: 3,
    root: "/var/lib/containerd",
    state: "/run/containerd",
    grpc: { address: "/run/containerd/containerd.sock" },
    plugins: {
      "io.containerd.cri.v1.images": {
        snapshotter: "overlayfs",
        pinned_images: { sandbox: imageRefs(v).pause },
        registry: { config_path: "/etc/containerd/certs.d" },
      },
      "io.containerd.cri.v1.runtime": {
        // Node containers may lack CAP_SYS_RESOURCE (engines that refuse --privileged), without which a
        // negative oom_score_adj (the kubelet asks -998 for every pod sandbox) fails the pod.
        restrict_oom_score_adj: true,
        enable_unprivileged_ports: true,
        enable_unprivileged_icmp: true,
        containerd: {
          default_runtime_name: "runc",
          runtimes: { runc: { runtime_type: "io.containerd.runc.v2", options: { SystemdCgroup: false } } },
        },
        cni: { bin_dirs: ["/opt/cni/bin"], conf_dir: "/etc/cni/net.d" },
      },
    },
  });
}
