import { describeMount, nodeRuntime, type ClusterConfig } from "../config/index.js";
import { UserError } from "../util/errors.js";

/**
 * A node container's mounts are fixed when the engine creates it, so `start` on a cluster that exists
 * cannot give it other mounts. Asked for none, it keeps the ones it has (a plain `start` resumes);
 * asked for others, it says so rather than leave the user believing the folder is there.
 */
export function refuseChangedMounts(requested: ClusterConfig, existing: ClusterConfig): void {
  const wanted = mountSet(requested);
  if (!wanted.size) return;
  const has = mountSet(existing);
  if (wanted.size === has.size && [...wanted].every((m) => has.has(m))) return;
  const list = (s: Set<string>) => (s.size ? [...s].join(", ") : "none");
  throw new UserError(
    `cluster "${requested.name}" exists with mounts ${list(has)}; --mount (or extraMounts) asks for ${list(wanted)}, and a node's mounts are fixed when it is created`,
    `Start it without --mount to keep its mounts, copy files in with \`kubeyard cp\`, or \`kubeyard delete -p ${requested.name}\` and start it again with the mounts you want.`,
  );
}

/** `start` on a cluster that exists: what was fixed when its nodes were made (mounts, runtime) may not change. */
export function refuseChangedSettings(requested: ClusterConfig, existing: ClusterConfig): void {
  refuseChangedMounts(requested, existing);
  refuseChangedRuntime(requested, existing);
}

/** The runtime is chosen when the nodes are made: `start` asked for another one refuses, changing nothing. */
function refuseChangedRuntime(requested: ClusterConfig, existing: ClusterConfig): void {
  const has = nodeRuntime(existing);
  if (requested.containerRuntime === null || requested.containerRuntime === has) return;
  throw new UserError(
    `cluster "${requested.name}" runs ${has}; --container-runtime (or containerRuntime) asks for ${requested.containerRuntime}, and a cluster's runtime is fixed when it is created`,
    `Start it without --container-runtime, or \`kubeyard delete -p ${requested.name}\` and start it again with --container-runtime ${requested.containerRuntime}.`,
  );
}

function mountSet(config: ClusterConfig): Set<string> {
  return new Set(config.nodes.flatMap((n) => n.extraMounts.map(describeMount)));
}
