import { promises as fs } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { cacheDir } from "../../util/paths.js";

/**
 * How node containers get the powers a Kubernetes node needs. `--privileged` is the norm, but some
 * engines refuse it (a host whose capability bounding set lacks CAP_SYS_RESOURCE or CAP_MAC_OVERRIDE:
 * rootless engines, nested containers, some CI runners). There, an explicit set does the same job:
 * every capability the host has, no seccomp or AppArmor confinement, all devices, writable /sys and cgroups.
 */
export type PrivilegeMode = "privileged" | "capabilities";

const MISSING_ON_RESTRICTED_HOSTS = ["SYS_RESOURCE", "MAC_OVERRIDE"];

export function nodeHostConfig(mode: PrivilegeMode, cgroupVersion: 1 | 2 = 1): Docker.HostConfig {
  const common: Docker.HostConfig = {
    SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
    Devices: [{ PathOnHost: "/dev/kmsg", PathInContainer: "/dev/kmsg", CgroupPermissions: "rwm" }],
  };
  if (mode === "privileged") return { ...common, Privileged: true };
  return {
    ...common,
    CapAdd: ["ALL"],
    CapDrop: MISSING_ON_RESTRICTED_HOSTS,
    // The API form of `--security-opt systempaths=unconfined`: nothing under /proc or /sys masked or read-only.
    MaskedPaths: [],
    ReadonlyPaths: [],
    DeviceCgroupRules: ["a *:* rwm"],
    // cgroup v1 has no cgroup namespace: the host's tree is bound writable and the node's entrypoint
    // narrows it to the node's own cgroup. On v2 the private namespace already shows only the node's
    // cgroup; the entrypoint remounts it writable.
    ...(cgroupVersion === 1 ? { Binds: ["/sys/fs/cgroup:/sys/fs/cgroup:rw"] } : {}),
  };
}

const probed = new Map<Docker, Promise<PrivilegeMode>>();

/**
 * Finds out whether the engine grants --privileged, by starting a throwaway container of `image`.
 * The answer is kept per engine (by its ID) in kubeyard's cache, so only the first command probes.
 */
export function detectPrivilegeMode(docker: Docker, image: string, log?: (msg: string) => void): Promise<PrivilegeMode> {
  let p = probed.get(docker);
  if (!p) {
    p = remembered(docker, image).then((mode) => {
      if (mode === "capabilities")
        log?.("the container engine refuses --privileged here; nodes run with an explicit capability set instead");
      return mode;
    });
    probed.set(docker, p);
  }
  return p;
}

async function remembered(docker: Docker, image: string): Promise<PrivilegeMode> {
  const info = (await docker.info()) as { ID?: string; ServerVersion?: string };
  const file = path.join(cacheDir(), "engines", `${(info.ID ?? "unknown").replace(/[^A-Za-z0-9]/g, "_")}.json`);
  try {
    const saved = JSON.parse(await fs.readFile(file, "utf8")) as { privilegeMode?: PrivilegeMode; serverVersion?: string };
    if (saved.privilegeMode && saved.serverVersion === info.ServerVersion) return saved.privilegeMode;
  } catch {
    // Not probed yet on this engine.
  }
  const mode: PrivilegeMode = (await probe(docker, image)) ? "privileged" : "capabilities";
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ privilegeMode: mode, serverVersion: info.ServerVersion }) + "\n");
  return mode;
}

async function probe(docker: Docker, image: string): Promise<boolean> {
  const c = await docker.createContainer({
    Image: image,
    Entrypoint: ["true"],
    Cmd: [],
    Labels: { "dev.kubeyard.probe": "privileged" },
    // No network: a start that fails for the engine's networking (Podman's netavark without nft, say) must not
    // read as a refused --privileged, which would be remembered for this engine.
    HostConfig: { Privileged: true, AutoRemove: false, NetworkMode: "none" },
  });
  try {
    await c.start();
    await c.wait();
    return true;
  } catch {
    return false;
  } finally {
    // A container whose start was refused can take a moment to be removable.
    await c
      .remove({ force: true })
      .catch(() => new Promise((r) => setTimeout(r, 500)).then(() => c.remove({ force: true }).catch(() => undefined)));
  }
}
