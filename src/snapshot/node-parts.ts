import { DEFAULT_LAYOUT } from "../components/index.js";

/**
 * The folders of a node a snapshot holds, each saved and restored whole: etcd's data (control planes)
 * and the local-path provisioner's volumes (the folder its ConfigMap in addons/storage-provisioner names).
 * Compressed: etcd preallocates its log segments (64 MiB of zeros each), which gzip makes a few KiB.
 */
export const NODE_PARTS = {
  "etcd.tar.gz": DEFAULT_LAYOUT.etcdDataDir,
  "volumes.tar.gz": "/var/local-path-provisioner",
} as const;

export type NodePart = keyof typeof NODE_PARTS;

/** Where a restore leaves a node's parts for its next boot (on /var, which keeps them across a stop). */
export const RESTORE_DIR = "/var/lib/kubeyard/restore";
/** Written after every part is in place: only a complete set is applied. */
export const RESTORE_READY = `${RESTORE_DIR}/ready`;
/**
 * Staged on a copy's nodes (`start --from-snapshot`): their kubelets first boot without registering
 * their Nodes, which kubeyard makes itself once the old nodes' objects are gone (see adopt-nodes.ts).
 */
export const HOLD_REGISTRATION = `${RESTORE_DIR}/hold-registration`;
export const KUBELET_ARGS = `${DEFAULT_LAYOUT.argsDir}/kubelet`;
export const NO_REGISTRATION = "--register-node=false";

/**
 * The boot hook that applies a staged restore before any service starts, so no component ever sees a
 * half-replaced folder: each folder is removed and unpacked from its part (absent part, empty folder).
 * A hook killed half-way runs again at the next boot, since the parts are removed last.
 */
export const RESTORE_HOOK_PATH = "/etc/kubeyard/boot.d/00-restore-snapshot";

export function restoreHook(): string {
  const steps = Object.entries(NODE_PARTS).map(([file, dir]) => {
    const parent = dir.slice(0, dir.lastIndexOf("/")) || "/";
    return `rm -rf ${dir}\n[ ! -f "$dir/${file}" ] || tar -C ${parent} -xzpf "$dir/${file}"`;
  });
  return [
    "#!/bin/bash",
    "# Applies a snapshot `kubeyard snapshot restore` staged on this node (see src/snapshot/node-parts.ts).",
    "set -euo pipefail",
    `dir=${RESTORE_DIR}`,
    `[ -f ${RESTORE_READY} ] || exit 0`,
    ...steps,
    `[ ! -f ${HOLD_REGISTRATION} ] || grep -qx -- ${NO_REGISTRATION} ${KUBELET_ARGS} || echo ${NO_REGISTRATION} >> ${KUBELET_ARGS}`,
    'rm -rf "$dir"',
    "",
  ].join("\n");
}
