import type { DisableResult } from "../addons/index.js";
import { disableClusterAddon, enableClusterAddon, type EnableOptions, type EnabledAddon } from "../addons/manager.js";
import { withProfileLock } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";

/** `addons enable` and `configure`, under the profile's lock. */
export function enableAddonOf(profile: string, name: string, opts: EnableOptions): Promise<EnabledAddon> {
  return withProfileLock(profile, () => enableClusterAddon(profile, name, opts));
}

/** `addons disable`, under the profile's lock. */
export function disableAddonOf(profile: string, name: string, driver: NodeDriver): Promise<DisableResult> {
  return withProfileLock(profile, () => disableClusterAddon(profile, name, driver));
}
