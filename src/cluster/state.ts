import { promises as fs } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";
import type { ClusterConfig } from "../config/index.js";
import type { AddonPorts } from "../config/addon-ports.js";
import type { NodeDriver } from "../drivers/types.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { UserError } from "../util/errors.js";
import { stateDir } from "../util/paths.js";

/**
 * What kubeyard keeps per profile that the engine cannot tell it: the resolved config, the chosen
 * ports and addresses, where the kubeconfig entry went, the enabled addons, and the PKI. The
 * containers and network remain the truth about what exists.
 */
export interface ClusterState {
  name: string;
  config: ClusterConfig;
  apiServerPort: number;
  /** Host ports (on 127.0.0.1) published for addons on the first control-plane node; absent in clusters made before them. */
  addonPorts?: AddonPorts;
  network: { name: string; subnet: string; gateway: string };
  /** The Kubernetes nodes, in the order they were added; podCIDR is fixed for the node's life. */
  nodes: { name: string; role: "control-plane" | "worker"; ip: string; podCIDR?: string }[];
  /** The API servers' load balancer, when the cluster has more than one control plane. */
  loadBalancer?: { name: string; ip: string };
  /** The kubeconfig file kubeyard added its context to, or null with --no-kubeconfig. */
  kubeconfigPath: string | null;
  addons: string[];
  /** `--set` values given to addons, so a re-enable or restart renders them the same way. */
  addonValues?: Record<string, Record<string, string>>;
  /** "creating" until the first start completed; a cluster stuck there is removed by the next start. */
  phase: "creating" | "ready";
  createdAt: string;
  /** The engine the nodes run in (absent in clusters made before it was recorded: Docker's socket). */
  driver?: NodeDriver["name"];
}

export function profileDir(name: string): string {
  return path.join(stateDir(), "profiles", name);
}

export function pkiDir(name: string): string {
  return path.join(profileDir(name), "pki");
}

export async function readState(name: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(profileDir(name), "cluster.json"), "utf8")) as ClusterState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** The state of a cluster that finished its first start; the user's error when there is none. */
export async function requireReadyState(profile: string): Promise<ClusterState> {
  const state = await readState(profile);
  if (!state || state.phase !== "ready") {
    throw new UserError(
      `there is no cluster "${profile}"`,
      "Start one with `kubeyard start` (`kubeyard profile list` shows the clusters there are).",
    );
  }
  return state;
}

export async function writeState(state: ClusterState): Promise<void> {
  const dir = profileDir(state.name);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path.join(dir, "cluster.json"), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

export async function removeState(name: string): Promise<void> {
  await fs.rm(profileDir(name), { recursive: true, force: true });
}

export async function listProfiles(): Promise<string[]> {
  const dir = path.join(stateDir(), "profiles");
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names) if (await readState(n)) out.push(n);
  return out.sort();
}

/** One kubeyard process changes a profile at a time; others wait (bounded) and then see its result. */
export async function lockProfile(name: string, waitMs = 15 * 60_000): Promise<() => Promise<void>> {
  const dir = path.join(stateDir(), "locks");
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const target = path.join(dir, name);
  await fs.writeFile(target, "", { flag: "a" });
  return lockfile.lock(target, {
    stale: 20_000,
    update: 5_000,
    retries: { retries: Math.ceil(waitMs / 500), factor: 1, minTimeout: 500, maxTimeout: 500 },
  });
}

/** Runs `act` while holding the profile's lock. */
export async function withProfileLock<T>(name: string, act: () => Promise<T>): Promise<T> {
  const release = await lockProfile(name);
  try {
    return await act();
  } finally {
    await release();
  }
}

/**
 * A cluster lives in the engine it was made in. Through another it would look absent: `start` would
 * make it again under the same record, `delete` would drop the record and leave its nodes running.
 */
export function refuseOtherEngine(state: ClusterState | undefined, driver: Pick<NodeDriver, "name">): void {
  if (!state?.driver || state.driver === driver.name) return;
  throw new UserError(
    `cluster "${state.name}" runs in ${state.driver}, not in ${driver.name}`,
    `Leave out --driver (kubeyard then uses the engine the cluster was made in), or pass --driver ${state.driver}.`,
  );
}
