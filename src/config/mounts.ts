import fs from "node:fs";
import path from "node:path";
import type { Mount } from "./cluster-config.js";
import type { IssueInput } from "./issue-list.js";

/**
 * Folders of a node that kubeyard, containerd, the kubelet or the node's system own: a mount on one
 * of them, inside one, or on a folder that holds one (/etc, /opt) would hide or replace what the
 * node runs from. /var holds containerd's images, the kubelet's pods and etcd; /run and /tmp are
 * the node's tmpfs mounts, which would cover a mount made beneath them.
 */
export const RESERVED_NODE_PATHS: readonly string[] = [
  "/bin",
  "/boot",
  "/dev",
  "/etc/cni",
  "/etc/containerd",
  "/etc/kubernetes",
  "/etc/kubeyard",
  "/etc/service",
  "/etc/sv",
  "/lib",
  "/lib64",
  "/opt/cni",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
];

const ALLOWED_NODE_PATH = `an absolute path inside the node such as /data or /mnt/shared, not one of (or inside, or above) ${RESERVED_NODE_PATHS.join(", ")}`;

/** What is wrong with `containerPath` as the place of a mount in a node, if anything. */
export function checkNodeMountPath(containerPath: string): IssueInput | undefined {
  if (!path.posix.isAbsolute(containerPath))
    return { value: containerPath, problem: "is not an absolute path", allowed: ALLOWED_NODE_PATH };
  const p = normalNodePath(containerPath);
  const clash = RESERVED_NODE_PATHS.find((r) => p === r || p.startsWith(`${r}/`) || r.startsWith(p === "/" ? "/" : `${p}/`));
  if (clash) return { value: containerPath, problem: `would cover ${clash}, which the node itself uses`, allowed: ALLOWED_NODE_PATH };
  return undefined;
}

/** A node path without "." or ".." parts and without a trailing "/". */
function normalNodePath(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/$/, "$1");
}

/** Whether two mounts land on the same place in a node. */
export function sameNodePath(a: string, b: string): boolean {
  return normalNodePath(a) === normalNodePath(b);
}

/** A mount as `--mount` takes it, HOST_DIR:NODE_DIR[:ro]; two mounts are the same when these are. */
export function describeMount(m: Mount): string {
  return `${m.hostPath}:${m.containerPath}${m.readOnly ? ":ro" : ""}`;
}

/**
 * Parses one `--mount HOST_DIR:NODE_DIR[:ro|:rw]`. HOST_DIR must be an absolute path of an existing
 * folder: a relative one would mean different folders depending on where `start` happened to run.
 */
export function parseMountFlag(text: string): { mount: Mount } | { issue: IssueInput } {
  const allowed = "HOST_DIR:NODE_DIR or HOST_DIR:NODE_DIR:ro, with HOST_DIR an absolute path of an existing folder on the host";
  let spec = text.trim();
  let readOnly = false;
  const mode = /:(ro|rw)$/.exec(spec);
  if (mode) {
    readOnly = mode[1] === "ro";
    spec = spec.slice(0, -3);
  }
  const parts = spec.split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { issue: { value: text, problem: "is not HOST_DIR:NODE_DIR", allowed } };
  const [hostPath, containerPath] = parts as [string, string];
  if (!path.isAbsolute(hostPath)) {
    return { issue: { value: text, problem: `has a relative host folder (${hostPath})`, allowed: `${allowed}, e.g. "$PWD/${hostPath}"` } };
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(hostPath);
  } catch {
    return { issue: { value: text, problem: `names a host folder that does not exist (${hostPath})`, allowed } };
  }
  if (!stat.isDirectory()) return { issue: { value: text, problem: `names ${hostPath}, which is not a folder`, allowed } };
  const bad = checkNodeMountPath(containerPath);
  if (bad) return { issue: { value: text, problem: `has a node folder (${containerPath}) that ${bad.problem}`, allowed: bad.allowed } };
  return { mount: { hostPath: path.resolve(hostPath), containerPath: path.posix.normalize(containerPath), readOnly } };
}
