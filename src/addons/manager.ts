import http from "node:http";
import path from "node:path";
import {
  addonContext,
  disableAddon,
  enableAddon,
  getAddon,
  listAddons,
  renderText,
  resolveValues,
  withArtifactManifests,
  type Addon,
  type AddonContext,
  type DisableResult,
  type HostProbe,
  type ResolvedValues,
} from "./index.js";
import { ADDON_PORT_ADDRESS } from "../config/addon-ports.js";
import { nodeRuntime } from "../config/index.js";
import { ArtifactCache } from "../artifacts/cache.js";
import { cachedImageArchive } from "../artifacts/image-archive.js";
import { ensureStandaloneImage } from "../artifacts/images.js";
import type { SourceChoice } from "../artifacts/source-choice.js";
import { imageRefs } from "../versions/versions.js";
import type { NodeDriver } from "../drivers/types.js";
import { loadPki } from "../pki/store.js";
import { runtimeImages } from "../node/runtime/index.js";
import { rereadRegistries } from "../node/services.js";
import { UserError } from "../util/errors.js";
import { portsMissingFor } from "./host-ports.js";
import { adminClient } from "../cluster/api.js";
import { waitForDnsAnswer } from "./dns-probe.js";
import { loadImages } from "../day2/image-load.js";
import { pkiDir, readState, requireReadyState, writeState, type ClusterState } from "../cluster/state.js";

export interface AddonRow {
  name: string;
  enabled: boolean;
  description: string;
}

/** Every addon there is, and whether it is enabled on this cluster (when there is one). */
export async function addonRows(profile: string): Promise<AddonRow[]> {
  const state = await readState(profile);
  return (await listAddons()).map((a) => ({ name: a.name, enabled: state?.addons.includes(a.name) ?? false, description: a.description }));
}

export interface EnableOptions {
  driver: NodeDriver;
  set?: Record<string, string>;
  source?: SourceChoice;
  onStep?: (text: string) => void;
}

export interface EnabledAddon {
  addon: Addon;
  /** The descriptor's usage text with the cluster's ports filled in. */
  usage?: string;
}

/**
 * Enables an addon: its images are made present on every node (pulled or built on the host, then
 * loaded) while the objects that run no container are applied, its node files are written, the
 * rest of its manifests applied, and it counts as enabled once its readiness checks pass and a
 * request from the host through each of its probes works. Values given before are kept unless set again.
 */
export async function enableClusterAddon(profile: string, name: string, opts: EnableOptions): Promise<EnabledAddon> {
  const plain = await getAddon(name);
  const state = await requireReadyState(profile);
  const given = { ...(state.addonValues?.[name] ?? {}), ...(opts.set ?? {}) };
  const ctx = clusterAddonContext(plain, state, resolveValues(plain, given));
  const images = ensureAddonImages(plain, state, opts);
  // Awaited below (through enableAddon); a failure before that must not go unhandled.
  images.catch(() => undefined);
  const addon = await withArtifactManifests(plain, state.config.versions, new ArtifactCache(), { onStep: opts.onStep });
  await writeNodeFiles(addon, ctx, state, opts.driver);
  const kc = adminClient(state, await loadPki(pkiDir(profile)));
  opts.onStep?.("apply manifests and wait until it works");
  await enableAddon(kc, addon, ctx, { onStatus: (s: string) => opts.onStep?.(s), workloadsAfter: images });
  await images;
  for (const probe of addon.hostProbes) {
    if ("dns" in probe) {
      opts.onStep?.(`ask DNS over ${probe.dns.toUpperCase()} on ${ADDON_PORT_ADDRESS}:${state.addonPorts![probe.port]}`);
      await waitForDnsAnswer(state.addonPorts![probe.port], probe.dns);
      continue;
    }
    opts.onStep?.(`request http://${ADDON_PORT_ADDRESS}:${state.addonPorts![probe.port]}${probe.path}`);
    await waitForHostProbe(probe, state.addonPorts![probe.port]);
  }
  state.addons = [...new Set([...state.addons, name])];
  state.addonValues = { ...(state.addonValues ?? {}), [name]: given };
  await writeState(state);
  return { addon, ...(addon.usage ? { usage: renderText(addon, ctx, addon.usage, "usage") } : {}) };
}

export async function disableClusterAddon(profile: string, name: string, driver: NodeDriver): Promise<DisableResult> {
  const addon = await getAddon(name);
  const state = await requireReadyState(profile);
  const kc = adminClient(state, await loadPki(pkiDir(profile)));
  const result = await disableAddon(kc, addon);
  await removeNodeFiles(addon, clusterAddonContext(addon, state, resolveValues(addon, state.addonValues?.[name] ?? {})), state, driver);
  state.addons = state.addons.filter((a) => a !== name);
  await writeState(state);
  return result;
}

/** What an addon's manifests and texts may refer to on this cluster: its facts, values and ports. */
function clusterAddonContext(addon: Addon, state: ClusterState, values: ResolvedValues): AddonContext {
  const base = addonContext(state.config);
  const missing = portsMissingFor(addon, state.addonPorts);
  if (missing.length) {
    throw new UserError(
      `cluster "${state.name}" was created before kubeyard published the ${addon.name} addon's port (${missing.join(", ")}), so the addon cannot be reached from the host`,
      `Recreate it (\`kubeyard delete -p ${state.name} && kubeyard start -p ${state.name}\`) to get them.`,
    );
  }
  const ip = state.nodes.find((n) => n.name === base.cluster.controlPlaneNode)?.ip;
  return {
    ...base,
    cluster: { ...base.cluster, ...(ip ? { controlPlaneIP: ip } : {}) },
    values,
    ...(state.addonPorts ? { ports: state.addonPorts } : {}),
  };
}

async function nodesOf(state: ClusterState, driver: NodeDriver) {
  return (await driver.listNodes(state.name)).filter((n) => n.role !== "load-balancer");
}

/** The addon's node files for the runtime the cluster runs, with their index in the descriptor (for messages). */
function nodeFilesFor(addon: Addon, state: ClusterState) {
  const runtime = nodeRuntime(state.config);
  return addon.nodeFiles.map((f, i) => ({ ...f, i })).filter((f) => (f.runtime ?? runtime) === runtime);
}

async function writeNodeFiles(addon: Addon, ctx: AddonContext, state: ClusterState, driver: NodeDriver): Promise<void> {
  const own = nodeFilesFor(addon, state);
  if (!own.length) return;
  const files = own.map((f) => ({
    path: renderText(addon, ctx, f.path, `nodeFiles[${f.i}].path`),
    content: renderText(addon, ctx, f.content, `nodeFiles[${f.i}].content`),
  }));
  await Promise.all(
    (await nodesOf(state, driver)).map(async (n) => {
      await driver.copyFiles(n.name, files);
      await rereadRegistries(driver, n.name, nodeRuntime(state.config));
    }),
  );
}

/** Removes the addon's node files, and their folders when that leaves them empty. */
async function removeNodeFiles(addon: Addon, ctx: AddonContext, state: ClusterState, driver: NodeDriver): Promise<void> {
  const own = nodeFilesFor(addon, state);
  if (!own.length) return;
  const paths = own.map((f) => renderText(addon, ctx, f.path, `nodeFiles[${f.i}].path`));
  const dirs = [...new Set(paths.map((p) => path.posix.dirname(p)))];
  await Promise.all(
    (await nodesOf(state, driver)).map(async (n) => {
      await driver.exec(n.name, ["rm", "-f", "--", ...paths]);
      await driver.exec(n.name, ["rmdir", "--ignore-fail-on-non-empty", "--", ...dirs]);
      await rereadRegistries(driver, n.name, nodeRuntime(state.config));
    }),
  );
}

/** Until a GET from the host through the addon's port answers (with the wanted status, if one). */
async function waitForHostProbe(probe: HostProbe, port: number, timeoutMs = 180_000): Promise<void> {
  // Nothing to watch here: an HTTP answer is the event, so ask a few times a second.
  const url = `http://${ADDON_PORT_ADDRESS}:${port}${probe.path}`;
  const end = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    try {
      const status = await httpStatus(url);
      if (probe.status === undefined || status === probe.status) return;
      last = `it answered ${status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > end) {
      throw new UserError(
        `GET ${url} did not ${probe.status ? `answer ${probe.status}` : "answer"} within ${timeoutMs / 1000} s (last: ${last})`,
        "`kubectl get pods -A` and `kubectl describe` of the addon's pods show why.",
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 3 s")));
    req.on("error", reject);
  });
}

/** Gives nodes added later what every enabled addon put on each node: its images and its node files. */
export async function prepareNodesForEnabledAddons(profile: string, opts: EnableOptions): Promise<void> {
  const state = await requireReadyState(profile);
  for (const name of state.addons) {
    const addon = await getAddon(name);
    if (addon.images.length) await ensureAddonImages(addon, state, opts);
    const ctx = clusterAddonContext(addon, state, resolveValues(addon, state.addonValues?.[name] ?? {}));
    await writeNodeFiles(addon, ctx, state, opts.driver);
  }
}

/**
 * Images the nodes lack are obtained on the host (pull, else build) and loaded into every node from
 * their archives in the cache (made once per image).
 */
async function ensureAddonImages(addon: Addon, state: ClusterState, opts: EnableOptions): Promise<void> {
  const refs = imageRefs(state.config.versions);
  const nodes = (await opts.driver.listNodes(state.name)).filter((n) => n.role !== "load-balancer");
  const cache = new ArtifactCache();
  const store = runtimeImages(nodeRuntime(state.config));
  const missing: string[] = [];
  const archives: string[] = [];
  for (const image of addon.images) {
    const ref = refs[image];
    const present = await Promise.all(nodes.map((n) => store.has(opts.driver, n.name, ref)));
    if (present.every(Boolean)) continue;
    opts.onStep?.(`image ${ref}`);
    await ensureStandaloneImage(opts.driver.images, image, state.config.versions, {
      cache,
      source: opts.source ?? "auto",
      onStep: opts.onStep,
    });
    missing.push(ref);
    archives.push(await cachedImageArchive(opts.driver.images, cache, image, ref));
  }
  if (missing.length) {
    opts.onStep?.(`load ${missing.join(", ")} into the nodes`);
    await loadImages(opts.driver, state.name, { images: [], archives });
  }
}
