import { execa } from "execa";
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, readlinkSync } from "node:fs";
import { eventually } from "../../helpers/poll.js";

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
    await eventually(
      `dockerd (pid ${pid}) to exit after SIGTERM`,
      () => {
        if (existsSync(`/proc/${pid}`)) throw new Error(`/proc/${pid} is still there`);
      },
      { timeoutMs: deadline - Date.now(), intervalMs: 250 },
    );
    const log = openSync(DOCKERD_LOG, "a");
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ["ignore", log, log] });
    child.unref();
  }
  await eventually(`docker info to answer after restarting the engine (see ${DOCKERD_LOG})`, () => execa("docker", ["info"]), {
    timeoutMs: deadline - Date.now(),
    intervalMs: 250,
  });
}

async function dockerdPid(): Promise<number> {
  const r = await execa("pgrep", ["-x", "dockerd"], { reject: false });
  const pids = String(r.stdout).split("\n").filter(Boolean).map(Number);
  if (pids.length !== 1) throw new Error(`expected exactly one running dockerd, found ${pids.length} (${pids.join(", ")})`);
  return pids[0]!;
}
