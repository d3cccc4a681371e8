import { UserError } from "../util/errors.js";

/** One registry whose pulls go through the shared mirror, and where the mirror fetches what it lacks. */
export interface MirroredRegistry {
  /** As images name it: `docker.io`, `registry.k8s.io`, `myhost:5000`. */
  registry: string;
  upstream: string;
}

/** The registries mirrored unless told otherwise, and the addresses their images really come from. */
export const DEFAULT_UPSTREAMS: Readonly<Record<string, string>> = {
  "docker.io": "https://registry-1.docker.io",
  "registry.k8s.io": "https://registry.k8s.io",
  "ghcr.io": "https://ghcr.io",
  "quay.io": "https://quay.io",
};

/** The port each mirror serves on, on the cluster networks it joins (never published on the host). */
export const MIRROR_PORT = 5000;
export const LABEL_MIRROR_REGISTRY = "dev.kubeyard.mirror.registry";
export const LABEL_MIRROR_UPSTREAM = "dev.kubeyard.mirror.upstream";
export const LABEL_MIRROR_SPEC = "dev.kubeyard.mirror.spec";

const REGISTRY_NAME = /^(?=.{1,253}(:|$))[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/**
 * The default registries with `--upstream REGISTRY=URL` values applied: each replaces a default's
 * upstream or adds a registry. Every bad value is reported at once, before anything is made.
 */
export function mirroredRegistries(flags: readonly string[] = []): MirroredRegistry[] {
  const upstreams = new Map(Object.entries(DEFAULT_UPSTREAMS));
  const problems: string[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const registry = eq > 0 ? flag.slice(0, eq).trim().toLowerCase() : "";
    const upstream = eq > 0 ? flag.slice(eq + 1).trim() : "";
    if (!registry || !upstream) {
      problems.push(`"${flag}": expected REGISTRY=URL, as in docker.io=https://registry-1.docker.io`);
      continue;
    }
    if (!REGISTRY_NAME.test(registry)) problems.push(`"${flag}": ${registry} is not a registry host name (host or host:port)`);
    const url = parseUpstream(upstream);
    if (!url) problems.push(`"${flag}": ${upstream} is not an http:// or https:// address of a registry (no path, query or credentials)`);
    else upstreams.set(registry, url);
  }
  if (problems.length) throw new UserError(`Bad --upstream value${problems.length > 1 ? "s" : ""}:\n  ${problems.join("\n  ")}`);
  return [...upstreams].map(([registry, upstream]) => ({ registry, upstream })).sort((a, b) => a.registry.localeCompare(b.registry));
}

function parseUpstream(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== "/" && url.pathname !== "") return undefined;
  return `${url.protocol}//${url.host}`;
}

/** The mirror container of a registry; nodes reach it by this name on their cluster's network. */
export function mirrorContainer(registry: string): string {
  return `kubeyard-mirror-${registry.replace(/[.:]/g, "-")}`;
}

/** Where a mirror keeps what it fetched: kept across `registry-mirror stop` unless asked otherwise. */
export function mirrorVolume(registry: string): string {
  return `${mirrorContainer(registry)}-cache`;
}
