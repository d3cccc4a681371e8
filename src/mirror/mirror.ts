import { createHash } from "node:crypto";
import { ArtifactCache } from "../artifacts/cache.js";
import { ensureStandaloneImage } from "../artifacts/images.js";
import type { SourceChoice } from "../artifacts/source-choice.js";
import type { NodeDriver, ServiceInfo, ServiceSpec } from "../drivers/types.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../versions/versions.js";
import { nodeRuntime } from "../config/index.js";
import { readState } from "../cluster/state.js";
import { syncMirrorFiles } from "./mirror-files.js";
import {
  LABEL_MIRROR_REGISTRY,
  LABEL_MIRROR_SPEC,
  LABEL_MIRROR_UPSTREAM,
  MIRROR_PORT,
  mirrorContainer,
  mirrorVolume,
  type MirroredRegistry,
} from "./registries.js";

/** A mirror as the engine has it: its registry and upstream, whether it runs, the clusters it serves. */
export interface MirrorStatus extends MirroredRegistry {
  container: string;
  /** Of the container's settings: a mirror made by another kubeyard version differs. */
  specHash: string;
  state: ServiceInfo["state"];
  clusters: string[];
}

/** The mirrors that exist now, running or not. */
export async function listMirrors(driver: NodeDriver): Promise<MirrorStatus[]> {
  return (await driver.services.list())
    .filter((s) => s.labels[LABEL_MIRROR_REGISTRY])
    .map((s) => ({
      registry: s.labels[LABEL_MIRROR_REGISTRY]!,
      upstream: s.labels[LABEL_MIRROR_UPSTREAM] ?? "",
      container: s.name,
      specHash: s.labels[LABEL_MIRROR_SPEC] ?? "",
      state: s.state,
      clusters: s.clusters,
    }));
}

/**
 * Runs one pull-through cache per registry (distribution's proxy mode serves one upstream each), then
 * points every running cluster's nodes at them. A mirror already running with the same upstream is
 * kept; one for a registry no longer listed is removed (its cache volume stays).
 */
export async function startMirrors(
  driver: NodeDriver,
  wanted: readonly MirroredRegistry[],
  opts: { source: SourceChoice; onStep?: (s: string) => void },
): Promise<MirrorStatus[]> {
  const image = await ensureMirrorImage(driver, opts);
  const existing = await listMirrors(driver);
  for (const m of existing.filter((e) => !wanted.some((w) => w.registry === e.registry))) {
    opts.onStep?.(`remove the mirror of ${m.registry}`);
    await driver.services.remove(m.container);
  }
  for (const m of wanted) {
    const spec = mirrorSpec(m, image);
    const have = existing.find((e) => e.registry === m.registry);
    if (have && have.specHash === spec.labels[LABEL_MIRROR_SPEC] && have.state === "running") continue;
    opts.onStep?.(`mirror of ${m.registry} from ${m.upstream}`);
    await driver.services.run(spec);
  }
  for (const cluster of await clustersWithNodes(driver)) {
    opts.onStep?.(`cluster ${cluster} pulls through the mirrors`);
    await joinMirrors(driver, cluster);
  }
  return listMirrors(driver);
}

/** A mirror's container; its hash label tells whether a running one is still the one wanted. */
function mirrorSpec(m: MirroredRegistry, image: string): ServiceSpec {
  const env = {
    REGISTRY_PROXY_REMOTEURL: m.upstream,
    REGISTRY_HTTP_ADDR: `:${MIRROR_PORT}`,
    OTEL_TRACES_EXPORTER: "none",
    // Given static credentials (or none), distribution asks the upstream for its auth realm when it
    // starts and panics when it cannot: a mirror started offline would never serve its cache. A
    // credential helper defers that to the first pull; this one does not exist, so pulls stay anonymous.
    REGISTRY_PROXY_EXEC_COMMAND: "kubeyard-anonymous-pulls",
  };
  const volume = { name: mirrorVolume(m.registry), path: "/var/lib/registry" };
  const hash = createHash("sha256").update(JSON.stringify({ image, env, volume })).digest("hex").slice(0, 16);
  return {
    name: mirrorContainer(m.registry),
    image,
    env,
    volume,
    labels: { [LABEL_MIRROR_REGISTRY]: m.registry, [LABEL_MIRROR_UPSTREAM]: m.upstream, [LABEL_MIRROR_SPEC]: hash },
  };
}

/** Removes every mirror (and, with `deleteCache`, what it cached) and the nodes' host files that named them. */
export async function stopMirrors(
  driver: NodeDriver,
  opts: { deleteCache: boolean; onStep?: (s: string) => void },
): Promise<MirrorStatus[]> {
  const mirrors = await listMirrors(driver);
  for (const cluster of await clustersWithNodes(driver)) {
    opts.onStep?.(`cluster ${cluster} pulls from the registries themselves again`);
    await syncNodes(driver, cluster, []);
  }
  for (const m of mirrors) {
    opts.onStep?.(`remove the mirror of ${m.registry}`);
    await driver.services.remove(m.container, opts.deleteCache ? { volume: mirrorVolume(m.registry) } : {});
  }
  return mirrors;
}

/**
 * Puts the mirrors that exist on the cluster's network and makes its running nodes' host files name
 * exactly them. Every path that starts nodes (create, node add, resume) calls this; without mirrors
 * it only clears host files a stopped mirror left.
 */
export async function joinMirrors(driver: NodeDriver, cluster: string): Promise<void> {
  const mirrors = await listMirrors(driver);
  for (const m of mirrors) await driver.services.join(m.container, cluster);
  await syncNodes(driver, cluster, mirrors);
}

async function syncNodes(driver: NodeDriver, cluster: string, mirrors: readonly MirroredRegistry[]): Promise<void> {
  const nodes = (await driver.listNodes(cluster)).filter((n) => n.role !== "load-balancer" && n.state === "running");
  const runtime = nodeRuntime((await readState(cluster))?.config);
  await Promise.all(nodes.map((n) => syncMirrorFiles(driver, n.name, runtime, mirrors)));
}

async function clustersWithNodes(driver: NodeDriver): Promise<string[]> {
  return [...new Set((await driver.listNodes()).map((n) => n.cluster))].sort();
}

/** The registry image the registry addon runs, pulled or built from its Go module. */
function ensureMirrorImage(driver: NodeDriver, opts: { source: SourceChoice; onStep?: (s: string) => void }): Promise<string> {
  const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
  return ensureStandaloneImage(driver.images, "registry", v, { cache: new ArtifactCache(), ...opts });
}
