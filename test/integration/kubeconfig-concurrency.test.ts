import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import YAML from "yaml";

// Real processes against one real file: the compiled module, run by plain node, exactly as the
// kubeyard binary would run it.

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const worker = path.join(repo, "test/helpers/kubeconfig-worker.mjs");

const FOREIGN = `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://prod.example.com:6443
    x-unknown: {keep: [1, 2]}
  name: prod
users:
- name: prod-admin
  user:
    token: not-a-real-token
contexts:
- context:
    cluster: prod
    user: prod-admin
  name: prod
current-context: prod
x-custom-top: keep me
`;

let build: string;
let moduleUrl: string;
let dir: string;
let file: string;

beforeAll(() => {
  // Compile only this module (and what it imports) into a private folder, so the test neither
  // depends on nor races with a full build of the repo. A node_modules link lets the output
  // resolve its dependencies.
  build = fs.mkdtempSync(path.join(os.tmpdir(), "kubeyard-kubeconfig-build-"));
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(build, "node_modules"), "dir");
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(repo, "node_modules/typescript/bin/tsc"),
      "--outDir",
      path.join(build, "out"),
      "--rootDir",
      repo,
      "--module",
      "NodeNext",
      "--moduleResolution",
      "NodeNext",
      "--target",
      "ES2022",
      "--strict",
      "--skipLibCheck",
      "--esModuleInterop",
      "--types",
      "node",
      path.join(repo, "src/kubeconfig/index.ts"),
    ],
    { cwd: repo, encoding: "utf8" },
  );
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  moduleUrl = pathToFileURL(path.join(build, "out/src/kubeconfig/index.js")).href;
}, 120_000);

afterAll(() => {
  if (build) fs.rmSync(build, { recursive: true, force: true });
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeyard-kubeconfig-it-"));
  file = path.join(dir, "config");
  fs.writeFileSync(file, FOREIGN, { mode: 0o600 });
  return () => fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLines: (count: number) => Promise<void>;
}

function run(command: string, name: string): Run {
  const child = spawn(process.execPath, [worker, moduleUrl, command, file, name], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  const waiters: Array<() => void> = [];
  let partial = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, signal });
    }),
  );
  const waitForLines = async (count: number) => {
    while (lines.length < count) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker exited early: ${err}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { child, lines, stderr: () => err, exited, waitForLines };
}

const parse = () => YAML.parse(fs.readFileSync(file, "utf8"), { version: "1.1" });
const names = (list: Array<{ name: string }>) => list.map((item) => item.name);

function expectForeignIntact(config: Record<string, unknown>): void {
  const foreign = YAML.parse(FOREIGN, { version: "1.1" });
  const pick = (list: unknown, name: string) => (list as Array<{ name: string }>).find((item) => item.name === name);
  expect(pick(config.clusters, "prod")).toEqual(foreign.clusters[0]);
  expect(pick(config.users, "prod-admin")).toEqual(foreign.users[0]);
  expect(pick(config.contexts, "prod")).toEqual(foreign.contexts[0]);
  expect(config["x-custom-top"]).toBe("keep me");
}

describe("kubeconfig writes from many processes", () => {
  it("ten concurrent writers each add their context, and nothing else is lost", async () => {
    const profiles = Array.from({ length: 10 }, (_, i) => `profile-${i}`);
    const runs = profiles.map((name) => run("upsert", name));
    const results = await Promise.all(runs.map((r) => r.exited));
    results.forEach((result, i) => expect(result.code, runs[i]!.stderr()).toBe(0));

    const config = parse();
    expect(names(config.clusters).sort()).toEqual(["prod", ...profiles].sort());
    expect(names(config.users).sort()).toEqual(["prod-admin", ...profiles].sort());
    expect(names(config.contexts).sort()).toEqual(["prod", ...profiles].sort());
    expect(profiles).toContain(config["current-context"]);
    expectForeignIntact(config);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // No lock and no temp file left behind.
    expect(fs.readdirSync(dir)).toEqual(["config"]);
  }, 60_000);

  it("a write waits while another process holds the lock, and goes through once it is released", async () => {
    const lock = `${file}.lock`;
    fs.writeFileSync(lock, ""); // what kubectl leaves while it writes
    const writer = run("upsert", "dev");
    await writer.waitForLines(1);
    await sleep(700);
    // Still waiting: not exited, not written, the lock not broken.
    expect(writer.child.exitCode).toBeNull();
    expect(fs.readFileSync(file, "utf8")).toBe(FOREIGN);
    expect(fs.existsSync(lock)).toBe(true);

    fs.unlinkSync(lock);
    const result = await writer.exited;
    expect(result.code, writer.stderr()).toBe(0);
    expect(names(parse().contexts)).toEqual(["prod", "dev"]);
    expect(fs.existsSync(lock)).toBe(false);
  }, 30_000);

  it("a writer killed with SIGKILL at any moment leaves the old or the new file, never a broken one", async () => {
    // A large foreign entry makes each write long enough for the kill to land inside it.
    const big = `${FOREIGN}x-big-blob: ${"QUJD".repeat(256 * 1024)}\n`;
    fs.writeFileSync(file, big, { mode: 0o600 });
    for (let round = 0; round < 8; round++) {
      const writer = run("churn", "dev");
      await writer.waitForLines(2 + Math.floor(Math.random() * 4));
      if (round % 2 === 0) {
        await sleep(Math.random() * 40);
        writer.child.kill("SIGKILL");
      } else {
        // Aim inside the write itself: kill as soon as the next temp file appears.
        const watcher = fs.watch(dir, (_event, name) => {
          if (name?.startsWith(".config.") && name.endsWith(".tmp")) writer.child.kill("SIGKILL");
        });
        await writer.exited;
        watcher.close();
      }
      expect((await writer.exited).signal).toBe("SIGKILL");

      const config = parse();
      expectForeignIntact(config);
      expect(config["x-big-blob"]).toHaveLength(4 * 256 * 1024);
      // Killed between upsert and remove or the other way round: dev is there whole, or not at all.
      const dev = (config.contexts as Array<{ name: string }>).some((c) => c.name === "dev");
      expect(names(config.clusters)).toEqual(dev ? ["prod", "dev"] : ["prod"]);
      expect(names(config.users)).toEqual(dev ? ["prod-admin", "dev"] : ["prod-admin"]);

      // A lock the dead writer held is stale; deleting it is the user's call, as the error says.
      fs.rmSync(`${file}.lock`, { force: true });
    }
    // The next write also clears temp files the killed writers left.
    const last = run("upsert", "after");
    expect((await last.exited).code, last.stderr()).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(["config"]);
    expectForeignIntact(parse());
  }, 120_000);
});
