import type { SourceChoice } from "../artifacts/source-choice.js";
import { withProfileLock } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";
import { listMirrors, startMirrors, stopMirrors, type MirrorStatus } from "../mirror/mirror.js";
import type { MirroredRegistry } from "../mirror/registries.js";

export type { MirrorStatus } from "../mirror/mirror.js";
export { mirroredRegistries } from "../mirror/registries.js";

/** The mirrors' own lock: a name no profile can have (profile names hold no dots). */
const MIRROR_LOCK = "registry-mirror.lock";

/** `kubeyard registry-mirror start`, for registries `mirroredRegistries` made of the `--upstream` values. */
export async function startRegistryMirror(
  driver: NodeDriver,
  wanted: readonly MirroredRegistry[],
  opts: { source: SourceChoice; onStep?: (s: string) => void },
): Promise<MirrorStatus[]> {
  await driver.preflight();
  return withProfileLock(MIRROR_LOCK, () => startMirrors(driver, wanted, opts));
}

export async function stopRegistryMirror(
  driver: NodeDriver,
  opts: { deleteCache: boolean; onStep?: (s: string) => void },
): Promise<MirrorStatus[]> {
  await driver.preflight();
  return withProfileLock(MIRROR_LOCK, () => stopMirrors(driver, opts));
}

export async function registryMirrorStatus(driver: NodeDriver): Promise<MirrorStatus[]> {
  await driver.preflight();
  return listMirrors(driver);
}
