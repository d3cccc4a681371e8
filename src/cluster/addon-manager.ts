import { rm } from "node:fs/promises";
import type Docker from "dockerode";
import { addonContext, disableAddon, enableAddon, getAddon, listAddons, resolveValues, type Addon } from "../addons/index.js";
import { ArtifactCache } from "../artifacts/cache.js";
import { baseImageOnce } from "../artifacts/base-image.js";
import { ensureImage, imageSources } from "../artifacts/images.js";
import type { SourceChoice } from "../artifacts/obtain.js";
import { imageRefs } from "../artifacts/versions.js";
import type { NodeDriver } from "../drivers/types.js";
import { loadPki } from "../pki/index.js";
import { UserError } from "../util/errors.js";
import { adminClient } from "./api.js";
import { loadImages } from "./image-load.js";
import { pkiDir, readState, writeState, type ClusterState } from "./state.js";

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

async function requireState(profile: string): Promise<ClusterState> {
  const state = await readState(profile);
  if (!state || state.phase !== "ready") {
    throw new UserError(`there is no cluster "${profile}"`, "Start one with `kubeyard start` (`kubeyard profile list` shows the clusters there are).");
  }
  return state;
}

export interface EnableOptions {
  driver: NodeDriver;
  docker: Docker;
  set?: Record<string, string>;
  source?: SourceChoice;
  onStep?: (text: string) => void;
}

/**
 * Enables an addon: its images are made present on every node (pulled or built on the host, then
 * loaded), its manifests rendered with the values and applied, and it counts as enabled once its
 * readiness checks pass. Values given before are kept unless set again.
 */
export async function enableClusterAddon(profile: string, name: string, opts: EnableOptions): Promise<Addon> {
  const addon = await getAddon(name);
  const state = await requireState(profile);
  const given = { ...(state.addonValues?.[name] ?? {}), ...(opts.set ?? {}) };
  const values = resolveValues(addon, given);
  await ensureAddonImages(addon, state, opts);
  const kc = adminClient(state, await loadPki(pkiDir(profile)));
  opts.onStep?.("apply manifests and wait until it works");
  await enableAddon(kc, addon, { ...addonContext(state.config), values }, { onStatus: (s: string) => opts.onStep?.(s) });
  state.addons = [...new Set([...state.addons, name])];
  state.addonValues = { ...(state.addonValues ?? {}), [name]: given };
  await writeState(state);
  return addon;
}

export async function disableClusterAddon(profile: string, name: string): Promise<void> {
  const addon = await getAddon(name);
  const state = await requireState(profile);
  const kc = adminClient(state, await loadPki(pkiDir(profile)));
  await disableAddon(kc, addon);
  state.addons = state.addons.filter((a) => a !== name);
  await writeState(state);
}

/** Makes the images of every enabled addon present on every node again (a node added later lacks them). */
export async function ensureEnabledAddonImages(profile: string, opts: EnableOptions): Promise<void> {
  const state = await requireState(profile);
  for (const name of state.addons) {
    const addon = await getAddon(name);
    if (addon.images.length) await ensureAddonImages(addon, state, opts);
  }
}

/** Images the nodes lack are obtained on the host (pull, else build) and loaded into every node. */
async function ensureAddonImages(addon: Addon, state: ClusterState, opts: EnableOptions): Promise<void> {
  const refs = imageRefs(state.config.versions);
  const nodes = (await opts.driver.listNodes(state.name)).filter((n) => n.role !== "load-balancer");
  const missing: string[] = [];
  for (const image of addon.images) {
    const ref = refs[image];
    const present = await Promise.all(
      nodes.map(async (n) => (await opts.driver.exec(n.name, ["ctr", "-n", "k8s.io", "images", "ls", "-q", `name==${ref}`])).stdout.trim() !== ""),
    );
    if (present.every(Boolean)) continue;
    const cache = new ArtifactCache();
    const workDir = await cache.tempDir();
    try {
      opts.onStep?.(`image ${ref}`);
      await ensureImage(opts.docker, image, state.config.versions, {
        cache,
        sources: imageSources(opts.source ?? "auto"),
        baseImage: baseImageOnce(opts.docker, { log: cache.logPath("base", "bookworm", "source"), workDir }),
        onStep: opts.onStep,
      });
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    missing.push(ref);
  }
  if (missing.length) {
    opts.onStep?.(`load ${missing.join(", ")} into the nodes`);
    await loadImages(opts.docker, opts.driver, state.name, missing);
  }
}
