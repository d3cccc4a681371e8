import { existsSync } from "node:fs";
import type Docker from "dockerode";
import type { EngineHost } from "../types.js";

/** What the node setup needs to know about the engine: the kubelet must use the engine's cgroup layout. */
export interface EngineFacts extends Omit<EngineHost, "address"> {
  /** Whether the host has kernel modules to share with nodes (read-only, for kube-proxy's modprobe). */
  hasLibModules: boolean;
}

interface InfoFields {
  CgroupVersion?: string;
  CgroupDriver?: string;
  SecurityOptions?: string[];
  ServerVersion?: string;
}

export async function engineInfo(docker: Docker): Promise<EngineFacts> {
  const [info, version] = await Promise.all([docker.info() as Promise<InfoFields>, docker.version().catch(() => undefined)]);
  const podman = (version?.Components ?? []).some((c) => /podman/i.test(c.Name));
  return {
    // Engines too old to report it (API < 1.40) only ran on cgroup v1.
    cgroupVersion: info.CgroupVersion === "2" ? 2 : 1,
    cgroupDriver: info.CgroupDriver === "systemd" ? "systemd" : "cgroupfs",
    // Judged from this machine: right for a local engine, which is the one kubeyard is made for.
    hasLibModules: existsSync("/lib/modules"),
    rootless: (info.SecurityOptions ?? []).some((o) => o.split(",").includes("name=rootless")),
    engine: podman ? "podman" : "docker",
    version: version?.Version ?? info.ServerVersion ?? "unknown",
  };
}
