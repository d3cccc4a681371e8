#!/usr/bin/env node
// Times a cluster's start the way minikube's time-to-k8s benchmark does, phase by phase, over
// several runs on a warm cache: the start command itself, then how much longer until the API
// server answers, the kubernetes and kube-dns Services exist, an app's pod runs and DNS answers
// inside it. Also `delete` and the node container's memory at idle. Prints medians, writes JSON.
//
//   npm run bench [-- --runs 5 --out .bench/start.json]
//   npm run bench -- --suite multinode [--runs 3]   time to a Ready 3-node cluster
import { execa } from "execa";
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ArtifactCache } from "../dist/src/artifacts/cache.js";
import { DEFAULT_KUBERNETES_VERSION } from "../dist/src/artifacts/versions.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    out: { type: "string" },
    suite: { type: "string", default: "start" },
  },
});
const runs = Number(values.runs);
const cli = path.resolve("dist/cmd/kubeyard.js");
const home = mkdtempSync(path.join(os.tmpdir(), "kubeyard-bench-"));
const env = { ...process.env, KUBEYARD_HOME: path.join(home, "state"), KUBECONFIG: path.join(home, "kubeconfig"), CI: "true" };
// One name per process: two benches on one engine must not delete each other's cluster.
const profile = `bench-${process.pid}`;

const cache = new ArtifactCache();
const k8s = (await cache.get("kubernetes", DEFAULT_KUBERNETES_VERSION, "release")) ?? (await cache.get("kubernetes", DEFAULT_KUBERNETES_VERSION, "source"));
if (!k8s) throw new Error("build the artifacts first: kubeyard build node-image");
const kubectlBin = path.join(k8s.dir, "kubectl");

const kubeyard = (args) => execa("node", [cli, "-p", profile, ...args], { env });
const kubectl = (args) => execa(kubectlBin, args, { env, reject: false });
const now = () => performance.now() / 1000;

/** Retries `check` until it succeeds: these phases are exactly "how long until X answers". */
async function until(check, timeoutS = 300) {
  const end = now() + timeoutS;
  for (;;) {
    if (await check()) return now();
    if (now() > end) throw new Error(`timed out: ${check}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ok = async (args) => (await kubectl(args)).exitCode === 0;

async function memoryMiB(container) {
  const { stdout } = await execa("docker", ["stats", "--no-stream", "--format", "{{.MemUsage}}", container]);
  const [used] = stdout.split("/");
  const m = /([\d.]+)\s*(KiB|MiB|GiB|B)/.exec(used);
  const factor = { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2]];
  return Number(m[1]) * factor;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `start --nodes 3` until all three nodes are Ready and a DaemonSet runs a pod on each; then delete. */
async function multinodeSuite() {
  const mn = `bench-mn-${process.pid}`;
  const run = (args) => execa("node", [cli, "-p", mn, ...args], { env });
  await run(["delete"]).catch(() => undefined);
  await run(["build", "node-image"]);
  const results = [];
  for (let i = 1; i <= runs; i++) {
    const t0 = now();
    await run(["start", "--nodes", "3"]);
    const tCmd = now();
    const ready = async () => {
      const r = await kubectl(["get", "nodes", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"]);
      const lines = String(r.stdout).trim().split("\n");
      return r.exitCode === 0 && lines.length === 3 && lines.every((l) => l === "True");
    };
    const tReady = await until(ready);
    const ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: every}\nspec:\n  selector: {matchLabels: {app: every}}\n  template:\n    metadata: {labels: {app: every}}\n    spec:\n      tolerations: [{operator: Exists}]\n      containers: [{name: c, image: docker.io/library/busybox:1.35.0, command: [sleep, '3600']}]\n";
    await execa(kubectlBin, ["apply", "-f", "-"], { env, input: ds });
    await kubectl(["rollout", "status", "daemonset/every", "--timeout=300s"]);
    const tDs = now();
    const d0 = now();
    await run(["delete"]);
    const r = { run: i, commandExec: tCmd - t0, nodesReady: tReady - t0, daemonSetOnEveryNode: tDs - t0, delete: now() - d0 };
    results.push(r);
    process.stdout.write(`run ${i}: start --nodes 3 ${r.commandExec.toFixed(1)} s, 3 nodes Ready ${r.nodesReady.toFixed(1)} s, DaemonSet on all ${r.daemonSetOnEveryNode.toFixed(1)} s, delete ${r.delete.toFixed(1)} s\n`);
  }
  rmSync(home, { recursive: true, force: true });
  const phases = ["commandExec", "nodesReady", "daemonSetOnEveryNode", "delete"];
  const medians = Object.fromEntries(phases.map((p) => [p, median(results.map((r) => r[p]))]));
  process.stdout.write(`\nmedians over ${runs} runs (seconds)\n| phase | median |\n| --- | --- |\n`);
  for (const p of phases) process.stdout.write(`| ${p} | ${medians[p].toFixed(2)} |\n`);
  const out = values.out ?? ".bench/multinode.json";
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), kubernetes: DEFAULT_KUBERNETES_VERSION, runs: results, medians }, null, 2) + "\n");
  process.stdout.write(`written to ${out}\n`);
}

if (values.suite === "multinode") {
  await multinodeSuite();
  process.exit(0);
}
if (values.suite !== "start") throw new Error(`unknown --suite ${values.suite}: start or multinode`);

await kubeyard(["delete"]).catch(() => undefined);
await kubeyard(["build", "node-image"]);
const results = [];
for (let i = 1; i <= runs; i++) {
  const t0 = now();
  await kubeyard(["start"]);
  const tCmd = now();
  const tApi = await until(() => ok(["get", "--raw", "/readyz"]));
  const tSvc = await until(() => ok(["get", "service", "kubernetes"]));
  const tDnsSvc = await until(() => ok(["-n", "kube-system", "get", "service", "kube-dns"]));
  await kubectl(["create", "deployment", "app", "--image=docker.io/library/busybox:1.35.0", "--", "sleep", "3600"]);
  await kubectl(["rollout", "status", "deployment/app", "--timeout=300s"]);
  const tApp = now();
  const tDns = await until(() => ok(["exec", "deploy/app", "--", "nslookup", "kubernetes.default.svc.cluster.local"]));
  await new Promise((r) => setTimeout(r, 10_000));
  const mem = await memoryMiB(`${profile}-control-plane`);
  const d0 = now();
  await kubeyard(["delete"]);
  const tDelete = now() - d0;
  const r = {
    run: i,
    commandExec: tCmd - t0,
    apiServerAnswering: tApi - tCmd,
    kubernetesService: tSvc - tApi,
    dnsService: tDnsSvc - tSvc,
    appRunning: tApp - tDnsSvc,
    dnsAnswering: tDns - tApp,
    total: tDns - t0,
    delete: tDelete,
    idleMemoryMiB: mem,
  };
  results.push(r);
  process.stdout.write(`run ${i}: total ${r.total.toFixed(1)} s (start command ${r.commandExec.toFixed(1)} s), delete ${tDelete.toFixed(1)} s, idle memory ${mem.toFixed(0)} MiB\n`);
}
rmSync(home, { recursive: true, force: true });

const phases = ["commandExec", "apiServerAnswering", "kubernetesService", "dnsService", "appRunning", "dnsAnswering", "total", "delete", "idleMemoryMiB"];
const medians = Object.fromEntries(phases.map((p) => [p, median(results.map((r) => r[p]))]));
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() };

process.stdout.write(`\nmedians over ${runs} runs (seconds; memory in MiB)\n`);
process.stdout.write(`| phase | median |\n| --- | --- |\n`);
for (const p of phases) process.stdout.write(`| ${p} | ${medians[p].toFixed(p === "idleMemoryMiB" ? 0 : 2)} |\n`);
const out = values.out ?? ".bench/start.json";
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), kubernetes: DEFAULT_KUBERNETES_VERSION, machine, runs: results, medians }, null, 2) + "\n");
process.stdout.write(`written to ${out}\n`);
