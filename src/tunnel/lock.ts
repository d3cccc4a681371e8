import { promises as fs } from "node:fs";
import { readFileSync } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";
import { profileDir } from "../cluster/state.js";
import { UserError } from "../util/errors.js";
import { isProcessAlive } from "../util/process-alive.js";

export interface TunnelClaim {
  /** The pid of an earlier tunnel that ended without cleaning up (SIGKILL, a crash), if there was one. */
  leftoverPid?: number;
  release: () => Promise<void>;
}

interface PidFile {
  pid: number;
  startedAt: string;
}

/** Whether `pid` is a running kubeyard tunnel (not merely some process that reuses the number). */
function isTunnelProcess(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("tunnel");
  } catch {
    return process.platform !== "linux";
  }
}

/**
 * Makes this process the cluster's only tunnel: a pid file in the profile's state dir, checked and
 * written under a short lock so two tunnels starting at once cannot both win. A pid file whose
 * process is gone is an earlier tunnel's leftover: reported, so its addresses get cleaned up.
 */
export async function claimTunnel(profile: string): Promise<TunnelClaim> {
  const dir = profileDir(profile);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const pidPath = path.join(dir, "tunnel.pid");
  const lockTarget = path.join(dir, "tunnel.lock");
  await fs.writeFile(lockTarget, "", { flag: "a" });
  const unlock = await lockfile.lock(lockTarget, {
    stale: 10_000,
    retries: { retries: 60, factor: 1, minTimeout: 250, maxTimeout: 250 },
  });
  let leftoverPid: number | undefined;
  try {
    const existing = await fs.readFile(pidPath, "utf8").then(
      (t) => JSON.parse(t) as PidFile,
      () => undefined,
    );
    if (existing && existing.pid !== process.pid && isTunnelProcess(existing.pid)) {
      throw new UserError(
        `a tunnel for cluster "${profile}" is already running (pid ${existing.pid}, since ${existing.startedAt})`,
        `one tunnel serves every LoadBalancer Service of the cluster; stop that one (Ctrl-C in its terminal, or kill ${existing.pid}) to start another`,
      );
    }
    if (existing) leftoverPid = existing.pid;
    const mine: PidFile = { pid: process.pid, startedAt: new Date().toISOString() };
    await fs.writeFile(pidPath, JSON.stringify(mine) + "\n", { mode: 0o600 });
  } finally {
    await unlock();
  }
  return {
    leftoverPid,
    release: async () => {
      const now = await fs.readFile(pidPath, "utf8").catch(() => "");
      if (now.includes(`"pid":${process.pid},`)) await fs.rm(pidPath, { force: true });
    },
  };
}
