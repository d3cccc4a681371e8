import type { KubeConfig } from "@kubernetes/client-node";
import { enableAddon, getAddon, type AddonContext } from "./index.js";

export { addonContext } from "./index.js";

/**
 * Enables addons one after another (each waits until it works), with their default values. With
 * `workloadsAfter`, each is read and its objects that run no container are applied at once, and its
 * pods' objects once that settles.
 */
export async function enableAddons(
  kc: KubeConfig,
  names: string[],
  ctx: Omit<AddonContext, "values">,
  signal?: AbortSignal,
  workloadsAfter?: Promise<unknown>,
): Promise<void> {
  for (const name of names) {
    const addon = await getAddon(name);
    await enableAddon(kc, addon, ctx, { signal, workloadsAfter });
  }
}
