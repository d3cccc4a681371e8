import type { Mount } from "./cluster-config.js";
import type { IssueList } from "./issue-list.js";
import { parseMountFlag, sameNodePath } from "./mounts.js";
import { CONTAINER_RUNTIMES, isContainerRuntime, type ContainerRuntime } from "./schema.js";

/**
 * The command-line flags that override the config file, as cmd/ hands them over: numbers may
 * still be the strings commander collected, addons a comma-separated string or a repeated list.
 */
export interface ConfigFlags {
  profile?: string;
  kubernetesVersion?: string;
  /** All nodes, control planes included. */
  nodes?: number | string;
  /** How many of the nodes are control planes. */
  controlPlanes?: number | string;
  apiServerPort?: number | string;
  apiServerAddress?: string;
  nodeImage?: string;
  containerRuntime?: string;
  addons?: readonly string[] | string;
  podSubnet?: string;
  serviceSubnet?: string;
  /** `HOST_DIR:NODE_DIR[:ro]` each, mounted into every node. */
  mounts?: readonly string[];
}

/** The flag each field is given with; errors name the flag, so cmd/ must use these spellings. */
export const FLAG_NAMES = {
  profile: "--profile",
  kubernetesVersion: "--kubernetes-version",
  nodes: "--nodes",
  controlPlanes: "--control-planes",
  apiServerPort: "--apiserver-port",
  apiServerAddress: "--apiserver-address",
  nodeImage: "--node-image",
  containerRuntime: "--container-runtime",
  addons: "--addons",
  podSubnet: "--pod-subnet",
  serviceSubnet: "--service-subnet",
  mounts: "--mount",
} as const satisfies Record<keyof ConfigFlags, string>;

export interface ParsedFlags {
  profile?: string;
  kubernetesVersion?: string;
  nodes?: number;
  controlPlanes?: number;
  apiServerPort?: number;
  apiServerAddress?: string;
  nodeImage?: string;
  containerRuntime?: ContainerRuntime;
  addons?: string[];
  podSubnet?: string;
  serviceSubnet?: string;
  mounts?: Mount[];
}

/** Turns flag input into typed values; the ones that are not even the right type are reported and dropped. */
export function parseFlags(flags: ConfigFlags, issues: IssueList): ParsedFlags {
  const out: ParsedFlags = {};
  const int = (key: "nodes" | "controlPlanes" | "apiServerPort", min: number, max: number, allowed: string) => {
    const raw = flags[key];
    if (raw === undefined) return;
    const n = typeof raw === "number" ? raw : /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      issues.add({ kind: "flag", flag: FLAG_NAMES[key] }, { value: raw, problem: "is not allowed", allowed });
      return;
    }
    out[key] = n;
  };
  int("nodes", 1, Number.MAX_SAFE_INTEGER, "a node count of at least 1 (control planes included)");
  int("controlPlanes", 1, Number.MAX_SAFE_INTEGER, "a control-plane count of at least 1");
  int("apiServerPort", 0, 65535, "a port number from 0 to 65535 (0 = a free port)");

  for (const key of ["profile", "kubernetesVersion", "apiServerAddress", "nodeImage", "podSubnet", "serviceSubnet"] as const) {
    const v = flags[key];
    if (v !== undefined) out[key] = v.trim();
  }
  if (flags.containerRuntime !== undefined) {
    const given = flags.containerRuntime.trim();
    if (isContainerRuntime(given)) out.containerRuntime = given;
    else
      issues.add(
        { kind: "flag", flag: FLAG_NAMES.containerRuntime },
        { value: given, problem: "is not allowed", allowed: CONTAINER_RUNTIMES.join(", ") },
      );
  }
  if (flags.addons !== undefined) {
    const list = typeof flags.addons === "string" ? [flags.addons] : flags.addons;
    out.addons = list
      .flatMap((a) => a.split(","))
      .map((a) => a.trim())
      .filter((a) => a !== "");
  }
  if (flags.mounts !== undefined) out.mounts = parseMounts(flags.mounts, issues);
  return out;
}

function parseMounts(given: readonly string[], issues: IssueList): Mount[] {
  const out: Mount[] = [];
  for (const text of given) {
    const r = parseMountFlag(text);
    if ("issue" in r) issues.add({ kind: "flag", flag: FLAG_NAMES.mounts }, r.issue);
    else if (out.some((m) => sameNodePath(m.containerPath, r.mount.containerPath))) {
      issues.add(
        { kind: "flag", flag: FLAG_NAMES.mounts },
        {
          value: text,
          problem: `mounts onto ${r.mount.containerPath}, which another --mount already uses`,
          allowed: "one mount per node folder",
        },
      );
    } else out.push(r.mount);
  }
  return out;
}
