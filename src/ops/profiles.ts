import { listProfiles, readState } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";

/** A line of `kubeyard profile list`. */
export interface ProfileRow {
  profile: string;
  nodes: number;
  /** "running", the nodes' states joined by commas when they differ, or "missing" without nodes. */
  state: string;
  kubernetesVersion: string;
}

/** Every cluster there is, recorded in the state dir or with nodes in the engine, with its state. */
export async function listProfileRows(driver: NodeDriver): Promise<ProfileRow[]> {
  const fromState = await listProfiles();
  const fromEngine = (await driver.listNodes()).map((n) => n.cluster);
  const names = [...new Set([...fromState, ...fromEngine])].sort();
  return Promise.all(
    names.map(async (n) => {
      const nodes = await driver.listNodes(n);
      const state = await readState(n);
      return {
        profile: n,
        nodes: nodes.length,
        state: nodes.length ? (nodes.every((x) => x.state === "running") ? "running" : nodes.map((x) => x.state).join(",")) : "missing",
        kubernetesVersion: state?.config.kubernetesVersion ?? "",
      };
    }),
  );
}

/**
 * The clusters `kubeyard delete` removes: the profile, or with `all` every cluster of this user's state
 * dir — never every kubeyard container the engine holds: other users and other KUBEYARD_HOMEs share it.
 */
export async function profilesToDelete(opts: { all: boolean; profile: string }): Promise<string[]> {
  return opts.all ? listProfiles() : [opts.profile];
}
