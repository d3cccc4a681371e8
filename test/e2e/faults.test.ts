import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs } from "../../src/versions/versions.js";
import { engineObjects, KUBEYARD_CLI, TestUser, uniqueProfile } from "./helpers/cli.js";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { entryNames, foreignEntries, foreignEntriesIn, readKubeconfigFile, writeForeignKubeconfig } from "./helpers/kubeconfig-fixture.js";
import { waitForLine } from "./helpers/output.js";
import { eventually } from "../helpers/poll.js";

/*
 * Faults a real user meets: a component dying inside a node, Ctrl-C in the middle of `start`, and
 * many kubeyard processes writing one kubeconfig at once.
 */

// Already on every node (the pod sandbox image), so a Deployment needs no registry.
const PAUSE_IMAGE = imageRefs(findVersion(DEFAULT_KUBERNETES_VERSION)!).pause;

function nothingInEngine() {
  return { containers: [], networks: [], volumes: [] };
}

async function dockerExec(node: string, cmd: string[]): Promise<{ exitCode: number; stdout: string; all: string }> {
  const r = await execa("docker", ["exec", node, ...cmd], { reject: false, all: true });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout).trim(), all: String(r.all) };
}

/** The supervisor's pid of a service, when `sv status` says it runs. */
async function supervisedPid(node: string, service: string): Promise<number | undefined> {
  const r = await dockerExec(node, ["sv", "status", `/etc/service/${service}`]);
  const m = /^run: \S+: \(pid (\d+)\)/.exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

/** The one process of exactly this name in the node. */
async function processPid(node: string, name: string): Promise<number | undefined> {
  const r = await dockerExec(node, ["pgrep", "-x", name]);
  const pids = r.stdout.split("\n").filter(Boolean).map(Number);
  return pids.length === 1 ? pids[0] : undefined;
}

describe("a component killed inside a node is restarted and the cluster recovers by itself", () => {
  let firstPod = "";
  const { user, profile } = clusterForFile("faults", {
    afterStart: async (cluster) => {
      await cluster.user.k("create", "deployment", "web", `--image=${PAUSE_IMAGE}`, "--replicas=1");
      await cluster.user.k("rollout", "status", "deployment/web", "--timeout=180s");
      firstPod = (await cluster.user.k("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")).trim();
      expect(firstPod).not.toBe("");
    },
  });
  const node = `${profile}-control-plane`;

  /** The restart count of a control-plane component's container, as its mirror pod in kube-system reports it. */
  async function staticPodRestarts(component: string): Promise<number> {
    const jsonpath = "jsonpath={.status.containerStatuses[0].restartCount}";
    return Number(await user.k("get", "pod", "-n", "kube-system", `${component}-${node}`, "-o", jsonpath));
  }

  // One at a time and in this order: each must have recovered before the next is killed. The
  // control plane runs as the kubelet's static pods, the kubelet under runit.
  it.each([
    ["kube-apiserver", "kubelet", 2],
    ["etcd", "kubelet", 3],
    ["kubelet", "runit", 4],
  ] as const)(
    "kill -KILL %s: its supervisor (%s) restarts it and the cluster serves again",
    async (component, supervisor, replicas) => {
      const before = await processPid(node, component);
      expect(before, `exactly one ${component} runs in ${node}`).toBeDefined();
      if (supervisor === "runit") expect(await supervisedPid(node, component)).toBe(before);
      const restartsBefore = supervisor === "kubelet" ? await staticPodRestarts(component) : 0;

      const kill = await dockerExec(node, ["pkill", "-KILL", "-x", component]);
      expect(kill.exitCode, kill.all).toBe(0);

      // The API may be down now, so nothing can be watched: poll, bounded.
      const after = await eventually(
        `${supervisor} to restart ${component}`,
        async () => {
          const pid = await processPid(node, component);
          expect(pid, `the one ${component} process`).toBeDefined();
          expect(pid, `the one ${component} process`).not.toBe(before);
          if (supervisor === "runit") expect(await supervisedPid(node, component), "the supervised pid").toBe(pid);
          return pid;
        },
        { timeoutMs: 120_000 },
      );
      expect(after).not.toBe(before);
      if (supervisor === "runit") {
        const sv = await dockerExec(node, ["sv", "status", `/etc/service/${component}`]);
        expect(sv.stdout).toMatch(/^run: /);
      }

      await eventually(
        "the API server's /readyz to say ok",
        async () => {
          const r = await user.kubectl(["get", "--raw", "/readyz", "--request-timeout=5s"]);
          expect(r.exitCode === 0 ? String(r.stdout).trim() : String(r.all)).toBe("ok");
        },
        { timeoutMs: 180_000, intervalMs: 1000 },
      );
      await user.k("wait", "node", "--all", "--for=condition=Ready", "--timeout=180s");

      // kubeyard's own view: kubelet and etcd health endpoints and /readyz, all ok.
      await eventually(
        "`kubeyard status` to report the cluster running",
        async () => {
          const r = await user.kubeyard(["status", "-p", profile]);
          expect(r.exitCode, String(r.all)).toBe(0);
        },
        { timeoutMs: 120_000, intervalMs: 2000 },
      );

      // The kubelet counted the restart on the component's mirror pod, and its log is there.
      if (supervisor === "kubelet") {
        await eventually(
          `the ${component} mirror pod to count the restart`,
          async () => expect(await staticPodRestarts(component)).toBeGreaterThan(restartsBefore),
          { timeoutMs: 60_000, intervalMs: 1000 },
        );
        expect(await user.k("logs", "-n", "kube-system", `${component}-${node}`, "--tail=5")).not.toBe("");
      }

      // The workload survived, and the whole chain (API, etcd, controllers, scheduler, the
      // restarted kubelet) still works: a new replica gets scheduled and runs.
      const phase = await user.k("get", "pod", firstPod, "-o", "jsonpath={.status.phase}");
      expect(phase).toBe("Running");
      await user.k("scale", "deployment/web", `--replicas=${replicas}`);
      await user.k("rollout", "status", "deployment/web", "--timeout=180s");
      const ready = await user.k("get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}");
      expect(Number(ready)).toBe(replicas);
    },
    420_000,
  );
});

describe("Ctrl-C during start leaves a complete cluster or nothing", () => {
  /**
   * After an interrupted start, exactly one of: nothing of the profile anywhere (engine, state,
   * kubeconfig), or a cluster that `kubeyard status` calls running. Either way the foreign
   * kubeconfig entries are intact and no kubeconfig lock is left behind.
   */
  async function expectCompleteOrNothing(user: TestUser, profile: string, log: string, exit: unknown): Promise<"nothing" | "complete"> {
    const status = await user.kubeyard(["status", "-p", profile]);
    const left = await engineObjects(profile);
    const names = entryNames(user.kubeconfig);
    const inKubeconfig = [...names.clusters, ...names.users, ...names.contexts].filter((n) => n === profile);
    const stateDir = path.join(user.env.KUBEYARD_HOME!, "profiles", profile);
    expect(existsSync(`${user.kubeconfig}.lock`), "a kubeconfig lock was left behind").toBe(false);
    expect(foreignEntriesIn(user.kubeconfig)).toEqual(foreignEntries());

    const summary = `start output (exit ${exit}):\n${log}\nstatus (${status.exitCode}):\n${String(status.all)}\nengine: ${JSON.stringify(left)}\nkubeconfig entries named ${profile}: ${inKubeconfig.length}\nstate dir: ${existsSync(stateDir)}`;
    if (status.exitCode === 0) {
      expect(inKubeconfig, summary).toHaveLength(3);
      return "complete";
    }
    expect({ engine: left, kubeconfigEntries: inKubeconfig, stateDir: existsSync(stateDir) }, summary).toEqual({
      engine: nothingInEngine(),
      kubeconfigEntries: [],
      stateDir: false,
    });
    return "nothing";
  }

  /** Starts `kubeyard start -p profile`, sends SIGINT when `when` resolves, and returns the output. */
  async function interruptedStart(user: TestUser, profile: string, when: (all: Readable) => Promise<unknown>) {
    const child = execa("node", [KUBEYARD_CLI, "start", "-p", profile], {
      env: user.env,
      reject: false,
      all: true,
      timeout: 600_000,
    });
    try {
      await when(child.all!);
    } finally {
      child.kill("SIGINT");
    }
    const r = await child;
    expect(r.timedOut, String(r.all)).toBe(false);
    return r;
  }

  it("interrupted once it is past the nodes step", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const profile = uniqueProfile("sigint");
    try {
      const r = await interruptedStart(user, profile, (all) => waitForLine(all, /^. (certificates|etcd|control plane)\b/, 300_000));
      expect(String(r.all)).toMatch(/SIGINT/);
      const outcome = await expectCompleteOrNothing(user, profile, String(r.all), r.exitCode ?? r.signal);
      // Interrupted means not finished: the exit code says so, unless it had completed.
      if (outcome === "nothing") expect(r.exitCode, String(r.all)).not.toBe(0);
    } finally {
      await user.kubeyard(["delete", "-p", profile]);
    }
  }, 600_000);

  it("interrupted right after it was spawned", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const profile = uniqueProfile("sigint");
    try {
      const r = await interruptedStart(user, profile, async () => undefined);
      expect(r.exitCode === 0, String(r.all)).toBe(false);
      await expectCompleteOrNothing(user, profile, String(r.all), r.exitCode ?? r.signal);
    } finally {
      await user.kubeyard(["delete", "-p", profile]);
    }
  }, 300_000);
});

function inotifyLimit(): string {
  try {
    return readFileSync("/proc/sys/fs/inotify/max_user_instances", "utf8").trim();
  } catch {
    return "unknown";
  }
}

describe("ten kubeyard processes share one kubeconfig", () => {
  const user = new TestUser();
  const tag = Math.random().toString(36).slice(2, 6);
  const profiles = Array.from({ length: 10 }, (_, i) => `c${i}-${tag}`);

  afterAll(async () => {
    // Whatever the test got to, leave no clusters running for the files after this one.
    await Promise.all(profiles.map((p) => user.kubeyard(["delete", "-p", p])));
  }, 600_000);

  it(
    "ten concurrent starts add all ten contexts and keep the foreign entries; ten deletes remove only theirs",
    async () => {
      writeForeignKubeconfig(user.kubeconfig);
      const t0 = Date.now();
      const starts = await Promise.all(
        profiles.map(async (p) => {
          const r = await user.kubeyard(["start", "-p", p], { timeout: 20 * 60_000 });
          return { profile: p, exitCode: r.exitCode, seconds: (Date.now() - t0) / 1000, all: String(r.all) };
        }),
      );
      process.stdout.write(
        `ten concurrent starts: ${starts.map((s) => `${s.profile} exit ${s.exitCode} at ${s.seconds.toFixed(0)}s`).join(", ")}\n`,
      );
      const failed = starts.filter((s) => s.exitCode !== 0);
      // Every node holds about twenty inotify instances (kubelet, API server, controllers,
      // containerd) against one per-user host limit, so the limit is part of any failure report.
      expect(
        failed.map((s) => s.profile),
        `${failed.map((s) => `start -p ${s.profile}:\n${s.all}`).join("\n")}\nhost fs.inotify.max_user_instances: ${inotifyLimit()}`,
      ).toEqual([]);

      // The file is valid YAML (readKubeconfigFile parses strictly), all ten are there, the foreign ones unchanged.
      const names = entryNames(user.kubeconfig);
      for (const list of [names.clusters, names.users, names.contexts]) {
        expect([...list].sort()).toEqual(["foreign", ...profiles].sort());
      }
      expect(foreignEntriesIn(user.kubeconfig)).toEqual(foreignEntries());
      expect(profiles).toContain(readKubeconfigFile(user.kubeconfig)["current-context"]);
      expect(existsSync(`${user.kubeconfig}.lock`)).toBe(false);
      // Each context really reaches its own cluster.
      await Promise.all(
        profiles.map(async (p) => {
          const node = await user.k("--context", p, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}");
          expect(node.trim()).toBe(`${p}-control-plane`);
        }),
      );

      const t1 = Date.now();
      const deletes = await Promise.all(profiles.map((p) => user.kubeyard(["delete", "-p", p], { timeout: 10 * 60_000 })));
      process.stdout.write(`ten concurrent deletes: ${((Date.now() - t1) / 1000).toFixed(0)}s\n`);
      deletes.forEach((r, i) => expect(r.exitCode, `delete -p ${profiles[i]}:\n${String(r.all)}`).toBe(0));

      const after = entryNames(user.kubeconfig);
      expect(after).toEqual({ clusters: ["foreign"], users: ["foreign"], contexts: ["foreign"] });
      expect(foreignEntriesIn(user.kubeconfig)).toEqual(foreignEntries());
      // current-context never points at a context that no longer exists.
      expect(["foreign", "", undefined, null]).toContain(readKubeconfigFile(user.kubeconfig)["current-context"]);
      expect(readFileSync(user.kubeconfig, "utf8")).toContain("x-someone-elses-key: keep me");
      expect(existsSync(`${user.kubeconfig}.lock`)).toBe(false);
      for (const p of profiles) expect(await engineObjects(p), p).toEqual(nothingInEngine());
    },
    30 * 60_000,
  );
});
