#!/usr/bin/env node
// Times a cluster's start the way minikube's time-to-k8s benchmark does, phase by phase, over
// several runs on a warm cache: the start command itself, then how much longer until the API
// server answers, the kubernetes and kube-dns Services exist, an app's pod runs and DNS answers
// inside it. Also `delete` and the node container's memory at idle. Prints medians, writes JSON.
//
//   npm run bench [-- --runs 5 --out .bench/start.json] [--cli OTHER/dist/cmd/kubeyard.js] [--container-runtime cri-o]   each run prints its phase trace
//   npm run bench -- --suite tunnel [--runs 5]   throughput and p99 through `kubeyard tunnel` next to direct NodePort
//   npm run bench -- --suite ingress [--runs 5]   # `addons enable ingress` until a request through it works
//   npm run bench -- --suite image-load [--runs 5]   `image load` of a 100 MB image into a 3-node cluster
//   npm run bench -- --suite multinode [--runs 3]   `start --nodes 3` until every node is Ready and a DaemonSet runs on each
//   npm run bench -- --suite snapshot [--runs 5]   `snapshot save`, `restore` and `start --from-snapshot` of a 1-node and a 3-node cluster (20 objects, a 100 MiB volume)
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ArtifactCache } from "../dist/src/artifacts/cache.js";
import { formatTrace, phaseTrace } from "./bench-trace.mjs";
import { DEFAULT_KUBERNETES_VERSION } from "../dist/src/versions/versions.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    out: { type: "string" },
    suite: { type: "string", default: "start" },
    // Another build's command line (an older checkout's), to compare two builds back to back.
    cli: { type: "string" },
    // The start suite's clusters run this runtime (containerd or cri-o), as `start --container-runtime` chooses.
    "container-runtime": { type: "string" },
  },
});
// The tunnel suite has a module of its own and runs before the others are set up.
const suites = { start: startSuite, ingress: ingressSuite, multinode: multinodeSuite, tunnel: true, "image-load": true, snapshot: true };
if (!suites[values.suite]) throw new Error(`unknown suite "${values.suite}"; known: ${Object.keys(suites).join(", ")}`);
values.out ??= `.bench/${values.suite}.json`;
const runs = Number(values.runs);
const cli = path.resolve(values.cli ?? "dist/cmd/kubeyard.js");
const home = mkdtempSync(path.join(os.tmpdir(), "kubeyard-bench-"));
const env = { ...process.env, KUBEYARD_HOME: path.join(home, "state"), KUBECONFIG: path.join(home, "kubeconfig"), CI: "true" };
// One name per process: two benches on one engine must not delete each other's cluster.
const profile = `bench-${values.suite}-${process.pid}`;

const runtimeArgs = values["container-runtime"] ? ["--container-runtime", values["container-runtime"]] : [];

const cache = new ArtifactCache();
const k8s =
  (await cache.get("kubernetes", DEFAULT_KUBERNETES_VERSION, "release")) ??
  (await cache.get("kubernetes", DEFAULT_KUBERNETES_VERSION, "source"));
if (!k8s) throw new Error("build the artifacts first: kubeyard build node-image");
const kubectlBin = path.join(k8s.dir, "kubectl");

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

if (values.suite === "tunnel") {
  const { tunnelSuite } = await import("./bench-tunnel.mjs");
  await execa("node", [cli, "build", "node-image"], { env });
  await tunnelSuite({ cli, env, kubectlBin, runs, out: values.out, median });
  rmSync(home, { recursive: true, force: true });
  process.exit(0);
}

const kubeyard = (args, extraEnv = {}) => execa("node", [cli, "-p", profile, ...args], { env: { ...env, ...extraEnv } });
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

/** kubeyard start, phase by phase (minikube's time-to-k8s). */
async function startSuite() {
  await kubeyard(["delete"]).catch(() => undefined);
  await kubeyard(["build", "node-image"]);
  const results = [];
  for (let i = 1; i <= runs; i++) {
    const traceFile = path.join(home, `trace-${i}.jsonl`);
    const t0Epoch = Date.now();
    const t0 = now();
    await kubeyard(["start", ...runtimeArgs], { KUBEYARD_TRACE: traceFile });
    const tCmd = now();
    const tApi = await until(() => ok(["get", "--raw", "/readyz"]));
    const tSvc = await until(() => ok(["get", "service", "kubernetes"]));
    const tDnsSvc = await until(() => ok(["-n", "kube-system", "get", "service", "kube-dns"]));
    await kubectl(["create", "deployment", "app", "--image=docker.io/library/busybox:1.35.0", "--", "sleep", "3600"]);
    await kubectl(["rollout", "status", "deployment/app", "--timeout=300s"]);
    const tApp = now();
    const tDns = await until(() => ok(["exec", "deploy/app", "--", "nslookup", "kubernetes.default.svc.cluster.local"]));
    const trace = await phaseTrace({ traceFile, node: `${profile}-control-plane`, kubectl, t0: t0Epoch });
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
      trace,
    };
    results.push(r);
    process.stdout.write(
      `run ${i}: total ${r.total.toFixed(1)} s (start command ${r.commandExec.toFixed(1)} s), delete ${tDelete.toFixed(1)} s, idle memory ${mem.toFixed(0)} MiB\n` +
        `${formatTrace(trace)}\n  DNS answering in the app's pod at ${r.total.toFixed(2)} s\n`,
    );
  }
  const phases = [
    "commandExec",
    "apiServerAnswering",
    "kubernetesService",
    "dnsService",
    "appRunning",
    "dnsAnswering",
    "total",
    "delete",
    "idleMemoryMiB",
  ];
  return { results, phases };
}

/**
 * `kubeyard image load` of a 100 MB image (one layer of random bytes, so nothing compresses or is
 * shared) into the three nodes of one cluster; before each run the image is removed from the nodes.
 */
async function imageLoadSuite() {
  const p = `bench-imgload-${Math.random().toString(36).slice(2, 7)}`;
  const image = `kubeyard-bench/blob:${p}`;
  const ky = (args) => execa("node", [cli, "-p", p, ...args], { env });
  const ctx = path.join(home, "image");
  mkdirSync(ctx);
  const blob = openSync(path.join(ctx, "blob"), "w");
  for (let i = 0; i < 100; i++) writeSync(blob, randomBytes(1024 * 1024));
  closeSync(blob);
  writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY blob /blob\n");
  await execa("docker", ["build", "-q", "-t", image, ctx]);
  const times = [];
  try {
    await ky(["start", "--nodes", "3"]);
    for (let i = 1; i <= runs; i++) {
      const t0 = now();
      await ky(["image", "load", image]);
      times.push(now() - t0);
      process.stdout.write(`run ${i}: image load of 100 MiB into 3 nodes ${times.at(-1).toFixed(1)} s\n`);
      await ky(["image", "rm", image]);
    }
  } finally {
    await ky(["delete"]).catch(() => undefined);
    await execa("docker", ["rmi", "-f", image]).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
  const out = values.out ?? ".bench/image-load.json";
  process.stdout.write(`\nmedian over ${runs} runs: image load of 100 MiB into 3 nodes ${median(times).toFixed(2)} s\n`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { date: new Date().toISOString(), suite: "image-load", nodes: 3, imageMiB: 100, runs: times, median: median(times) },
      null,
      2,
    ) + "\n",
  );
  process.stdout.write(`written to ${out}\n`);
}

/**
 * `addons enable ingress` on a fresh cluster (warm artifact cache: the Traefik image is built and
 * its archive cached, but the node has never seen it) until a request from the host through the
 * published HTTP port gets Traefik's answer; then, after a disable, the same again with the image
 * already on the node.
 */
async function ingressSuite() {
  await kubeyard(["delete"]).catch(() => undefined);
  await kubeyard(["build", "node-image"]);
  if (!(await cache.list()).some((a) => a.name === "traefik-archive")) {
    process.stdout.write("the Traefik image's archive is not cached yet: run 1 includes making it (once per image)\n");
  }
  const answers = async (port) => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  };
  const results = [];
  for (let i = 1; i <= runs; i++) {
    await kubeyard(["start"]);
    const { addonPorts } = JSON.parse((await kubeyard(["status", "-o", "json"])).stdout);
    const t0 = now();
    await kubeyard(["addons", "enable", "ingress"]);
    const tEnable = now();
    const tFirst = await until(() => answers(addonPorts.ingressHttp));
    const d0 = now();
    await kubeyard(["addons", "disable", "ingress"]);
    const tDisable = now() - d0;
    const r0 = now();
    await kubeyard(["addons", "enable", "ingress"]);
    const tRe = await until(() => answers(addonPorts.ingressHttp));
    await kubeyard(["delete"]);
    const r = { run: i, enableCommand: tEnable - t0, enableUntilRequest: tFirst - t0, disable: tDisable, reEnableUntilRequest: tRe - r0 };
    results.push(r);
    process.stdout.write(
      `run ${i}: enable until a request works ${r.enableUntilRequest.toFixed(1)} s, disable ${tDisable.toFixed(1)} s, enable again ${r.reEnableUntilRequest.toFixed(1)} s\n`,
    );
  }
  return { results, phases: ["enableCommand", "enableUntilRequest", "disable", "reEnableUntilRequest"] };
}

/** `start --nodes 3` until all three nodes are Ready and a DaemonSet runs a pod on each; then delete. */
async function multinodeSuite() {
  await kubeyard(["delete"]).catch(() => undefined);
  await kubeyard(["build", "node-image"]);
  const allReady = async () => {
    const r = await kubectl([
      "get",
      "nodes",
      "-o",
      'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]);
    const lines = String(r.stdout).trim().split("\n");
    return r.exitCode === 0 && lines.length === 3 && lines.every((l) => l === "True");
  };
  const daemonSet = [
    "apiVersion: apps/v1",
    "kind: DaemonSet",
    "metadata: {name: every}",
    "spec:",
    "  selector: {matchLabels: {app: every}}",
    "  template:",
    "    metadata: {labels: {app: every}}",
    "    spec:",
    "      tolerations: [{operator: Exists}]",
    "      containers: [{name: c, image: docker.io/library/busybox:1.35.0, command: [sleep, '3600']}]",
  ].join("\n");
  const results = [];
  for (let i = 1; i <= runs; i++) {
    const t0 = now();
    await kubeyard(["start", "--nodes", "3"]);
    const tCmd = now();
    const tReady = await until(allReady);
    await execa(kubectlBin, ["apply", "-f", "-"], { env, input: daemonSet });
    await kubectl(["rollout", "status", "daemonset/every", "--timeout=300s"]);
    const tDs = now();
    const d0 = now();
    await kubeyard(["delete"]);
    const r = { run: i, commandExec: tCmd - t0, nodesReady: tReady - t0, daemonSetOnEveryNode: tDs - t0, delete: now() - d0 };
    results.push(r);
    process.stdout.write(
      `run ${i}: start --nodes 3 ${r.commandExec.toFixed(1)} s, 3 nodes Ready ${r.nodesReady.toFixed(1)} s, DaemonSet on all ${r.daemonSetOnEveryNode.toFixed(1)} s, delete ${r.delete.toFixed(1)} s\n`,
    );
  }
  return { results, phases: ["commandExec", "nodesReady", "daemonSetOnEveryNode", "delete"] };
}

if (values.suite === "snapshot") {
  const { snapshotSuite } = await import("./bench-snapshot.mjs");
  await execa("node", [cli, "build", "node-image"], { env });
  await snapshotSuite({ cli, env, kubectlBin, runs, out: values.out, median, now, until });
  rmSync(home, { recursive: true, force: true });
  process.exit(0);
}

if (values.suite === "image-load") {
  await kubeyard(["build", "node-image"]);
  await imageLoadSuite();
  process.exit(0);
}

const { results, phases } = await suites[values.suite]();
rmSync(home, { recursive: true, force: true });
const medians = Object.fromEntries(phases.map((p) => [p, median(results.map((r) => r[p]))]));
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() };

process.stdout.write(`\nmedians over ${runs} runs (seconds; memory in MiB)\n`);
process.stdout.write(`| phase | median |\n| --- | --- |\n`);
for (const p of phases) process.stdout.write(`| ${p} | ${medians[p].toFixed(p === "idleMemoryMiB" ? 0 : 2)} |\n`);
mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(
  values.out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      suite: values.suite,
      containerRuntime: values["container-runtime"] ?? "containerd",
      kubernetes: DEFAULT_KUBERNETES_VERSION,
      machine,
      runs: results,
      medians,
    },
    null,
    2,
  ) + "\n",
);
process.stdout.write(`written to ${values.out}\n`);
