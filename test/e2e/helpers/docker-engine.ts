import { execa } from "execa";
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, readlinkSync } from "node:fs";

const DOCKERD_LOG = "/var/log/kubeyard-dockerd.log";

/** When each container (by name) was created and last started, as the engine reports it. */
export async function containerStarts(names: string[]): Promise<Record<string, { id: string; startedAt: string }>> {
  const out: Record<string, { id: string; startedAt: string }> = {};
  for (const name of names) {
    const { stdout } = await execa("docker", ["inspect", "--format", "{{.Id}} {{.State.StartedAt}}", name]);
    const [id = "", startedAt = ""] = stdout.trim().split(" ");
    out[name] = { id, startedAt };
  }
  return out;
}

/**
 * Restarts the Docker engine the way this machine runs it: through systemd when docker is a unit
 * there, otherwise by stopping the running dockerd (SIGTERM, then waiting for it to exit) and
 * starting it again, detached, with the same command line, working directory and environment.
 * Resolves once `docker info` answers again.
 */
export async function restartDockerEngine(timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const systemd = await execa("systemctl", ["is-active", "docker"], { reject: false }).catch(() => undefined);
  if (systemd?.exitCode === 0) {
    await execa("systemctl", ["restart", "docker"]);
  } else {
    const pid = await dockerdPid();
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .filter((kv) => kv.includes("="))
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    process.kill(pid, "SIGTERM");
    // dockerd is not our child: all there is to watch is its /proc entry going away.
    await until(() => !existsSync(`/proc/${pid}`), deadline, `dockerd (pid ${pid}) did not exit after SIGTERM`);
    const log = openSync(DOCKERD_LOG, "a");
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ["ignore", log, log] });
    child.unref();
  }
  await until(async () => (await execa("docker", ["info"], { reject: false })).exitCode === 0, deadline, `docker info did not answer after restarting the engine (see ${DOCKERD_LOG})`);
}

async function dockerdPid(): Promise<number> {
  const r = await execa("pgrep", ["-x", "dockerd"], { reject: false });
  const pids = String(r.stdout).split("\n").filter(Boolean).map(Number);
  if (pids.length !== 1) throw new Error(`expected exactly one running dockerd, found ${pids.length} (${pids.join(", ")})`);
  return pids[0]!;
}

/** Polls a condition that nothing can be watched for (another process's exit, a daemon coming up). */
async function until(cond: () => boolean | Promise<boolean>, deadline: number, message: string): Promise<void> {
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 250));
  }
}
