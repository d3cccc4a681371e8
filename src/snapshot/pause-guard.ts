import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { NodeDriver } from "../drivers/types.js";

/**
 * While a save holds the nodes paused, a small detached process watches it: killed at that moment
 * (SIGKILL runs no clean-up), the save would otherwise leave the cluster frozen. `release` once the
 * nodes run again.
 */
export function guardPause(engine: NodeDriver["name"], nodes: string[]): { release: () => void } {
  const script = fileURLToPath(new URL("./unpause-orphans.js", import.meta.url));
  const child = spawn(process.execPath, [script, String(process.pid), engine, ...nodes], { detached: true, stdio: "ignore" });
  child.unref();
  return { release: () => void child.kill() };
}
