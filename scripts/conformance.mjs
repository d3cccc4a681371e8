// The upstream Kubernetes conformance suite (the [Conformance] specs of k8s.io/kubernetes v1.37.1,
// [Serial] ones included) against a dedicated kubeyard cluster, offline: e2e.test and ginkgo are built
// from the Go module proxy, the test images the specs run are built by kubeyard under their upstream
// references and loaded into the nodes, and ginkgo runs the parallel specs, then the serial ones (as
// hydrophone and sonobuoy do). The JUnit reports and every log land in one folder, printed first.
//
//   npm run conformance -- [--focus REGEX] [--skip REGEX] [--parallel N] [--report-dir DIR]
//                          [--profile NAME] [--keep-cluster]
//
// See test/conformance/README.md for what it needs and how long it takes.
import { execa } from "execa";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ArtifactCache } from "../dist/src/artifacts/cache.js";
import { downloadModule, goEnv } from "../dist/src/artifacts/go-toolchain.js";
import { buildArtifact } from "../dist/src/artifacts/source-artifact.js";
import { wrapperGoMod } from "../dist/src/artifacts/source-build.js";
import { ensureTestImage } from "../dist/src/artifacts/test-images.js";
import { createDriver } from "../dist/src/drivers/index.js";
import { findVersion, TEST_IMAGES } from "../dist/src/versions/versions.js";
import { startRegistryStandIn } from "./conformance-registry.mjs";
import { summarizeReports } from "./conformance-report.mjs";

const KUBERNETES = "1.37.1";
const GINKGO = "v2.32.0";
const TOOLS_DIR = process.env.KUBEYARD_CONFORMANCE_DIR ?? path.join(os.homedir(), ".cache", "kubeyard-conformance");
const KUBEYARD = path.join(import.meta.dirname, "..", "dist", "cmd", "kubeyard.js");

const { values: opts } = parseArgs({
  options: {
    focus: { type: "string", default: "\\[Conformance\\]" },
    skip: { type: "string" },
    // Most specs wait on pods, probes and timers: on 2 cores, 6 processes ran the parallel set in 19 min.
    parallel: { type: "string", default: "6" },
    "report-dir": { type: "string" },
    profile: { type: "string", default: "conformance" },
    "keep-cluster": { type: "boolean", default: false },
  },
});
const procs = Number(opts.parallel);
if (!Number.isInteger(procs) || procs < 1) fail(`--parallel must be a whole number of at least 1, not "${opts.parallel}"`);

const started = Date.now();
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const runDir = path.resolve(opts["report-dir"] ?? path.join(os.tmpdir(), `kubeyard-conformance-${stamp}`));
await mkdir(runDir, { recursive: true });
say(`reports and logs: ${runDir}`);

function say(line) {
  const s = Math.round((Date.now() - started) / 1000);
  console.log(`[${String(Math.floor(s / 60)).padStart(3)}m${String(s % 60).padStart(2, "0")}s] ${line}`);
}

function fail(message) {
  console.error(`conformance: ${message}`);
  process.exit(2);
}

/** The command `logged` runs now: a signal to this script goes on to it (ginkgo passes it to its processes). */
let current;
let stopping = false;

/** Runs a command with its output appended to `log`, saying every minute that it still runs. */
async function logged(what, cmd, args, { log, ...execOpts }) {
  say(`${what} (log: ${log})`);
  const out = createWriteStream(log, { flags: "a" });
  const t0 = Date.now();
  const ticker = setInterval(() => say(`  ${what}: still running, ${Math.round((Date.now() - t0) / 60000)} min`), 60000);
  try {
    const child = execa(cmd, args, { all: true, ...execOpts });
    current = child;
    child.all.pipe(out);
    return await child;
  } catch (err) {
    throw new Error(`${what} failed (exit ${err.exitCode ?? "?"}); see ${log}`, { cause: err });
  } finally {
    current = undefined;
    clearInterval(ticker);
    out.end();
  }
}

/** e2e.test and ginkgo in TOOLS_DIR, built from the Go module proxy when missing (30-40 minutes cold). */
async function ensureTools() {
  const e2e = path.join(TOOLS_DIR, "e2e.test");
  const ginkgo = path.join(TOOLS_DIR, "ginkgo");
  if (existsSync(e2e) && existsSync(ginkgo)) return { e2e, ginkgo };
  await mkdir(TOOLS_DIR, { recursive: true });
  const log = path.join(TOOLS_DIR, "build.log");
  const upstream = await downloadModule("k8s.io/kubernetes", `v${KUBERNETES}`, log);
  const recipe = {
    kind: "wrapper",
    module: "k8s.io/kubernetes",
    version: `v${KUBERNETES}`,
    stagingVersion: `v0.${KUBERNETES.split(".").slice(1).join(".")}`,
    requires: { "github.com/onsi/ginkgo/v2": GINKGO },
    builds: [],
  };
  await writeFile(path.join(TOOLS_DIR, "go.mod"), wrapperGoMod(recipe, await readFile(path.join(upstream, "go.mod"), "utf8")));
  // Keeps both tools in the requirement graph that `go mod tidy` writes.
  const tools =
    '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/onsi/ginkgo/v2/ginkgo"\n\t_ "k8s.io/kubernetes/test/e2e"\n)\n';
  await writeFile(path.join(TOOLS_DIR, "tools.go"), tools);
  const env = goEnv({ CGO_ENABLED: "0" });
  await logged("resolve the e2e suite's modules", "go", ["mod", "tidy", "-e"], { cwd: TOOLS_DIR, env, log });
  await logged(`build ginkgo ${GINKGO}`, "go", ["build", "-o", ginkgo, "github.com/onsi/ginkgo/v2/ginkgo"], { cwd: TOOLS_DIR, env, log });
  // Without the version stamps e2e.test reports v0.0 and its pod-security fixtures fail.
  const pkg = "k8s.io/component-base/version";
  const [major, minor] = KUBERNETES.split(".");
  const ld = [
    `-X ${pkg}.gitVersion=v${KUBERNETES}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ];
  await logged(
    `build e2e.test v${KUBERNETES} (30-40 min cold)`,
    "go",
    ["test", "-c", "-o", e2e, "-ldflags", ld.join(" "), "k8s.io/kubernetes/test/e2e"],
    {
      cwd: TOOLS_DIR,
      env,
      log,
    },
  );
  return { e2e, ginkgo };
}

/** kubectl of the cluster's release, which the kubectl specs run: kubeyard's own Kubernetes build. */
async function kubectlPath() {
  const cache = new ArtifactCache();
  const v = findVersion(KUBERNETES);
  const art =
    (await cache.get("kubernetes", KUBERNETES, "release")) ??
    (await buildArtifact("kubernetes", v, cache, { onStep: (s) => say(`  kubernetes: ${s}`) }));
  return path.join(art.dir, "kubectl");
}

async function ensureImages() {
  const images = (await createDriver()).images;
  const refs = [];
  for (const [i, name] of TEST_IMAGES.entries()) {
    say(`test image ${i + 1}/${TEST_IMAGES.length}: ${name}`);
    refs.push(await ensureTestImage(images, name, (s) => say(`  ${name}: ${s}`)));
  }
  return refs;
}

function kubeyard(args, log) {
  return logged(`kubeyard ${args.join(" ")}`, "node", [KUBEYARD, "-p", opts.profile, ...args], {
    log,
    env: { ...process.env, CI: "true" },
  });
}

/** How many specs a ginkgo phase will run, from a dry run with the same filters. */
async function countSpecs(e2e, args) {
  const flags = ["--ginkgo.dry-run", "--ginkgo.no-color", ...args.map((a) => `--ginkgo.${a.slice(2)}`)];
  const r = await execa(e2e, flags, { reject: false, all: true });
  return Number(/Ran (\d+) of \d+ Specs/.exec(r.all)?.[1] ?? NaN);
}

/** One ginkgo phase; its progress is the count of finished specs in its log (ginkgo prints one mark per spec). */
async function ginkgoPhase(name, tools, kubeconfig, kubectl, labelFilter, nodes) {
  const filters = [`--label-filter=${labelFilter}`, `--focus=${opts.focus}`, ...(opts.skip ? [`--skip=${opts.skip}`] : [])];
  const total = await countSpecs(tools.e2e, filters);
  if (!total) {
    say(`${name} specs: none match`);
    return;
  }
  const log = path.join(runDir, `e2e-${name}.log`);
  const args = [
    `--procs=${nodes}`,
    ...filters,
    "--timeout=24h",
    "--no-color",
    "--silence-skips",
    `--output-dir=${runDir}`,
    `--junit-report=junit_${name}.xml`,
    `--json-report=report_${name}.json`,
    tools.e2e,
    "--",
    `--kubeconfig=${kubeconfig}`,
    `--kubectl-path=${kubectl}`,
    "--provider=skeleton",
  ];
  say(`${name} specs: ${total}, ${nodes} at a time (log: ${log})`);
  const ticker = setInterval(async () => {
    const text = await readFile(log, "utf8").catch(() => "");
    const done = (text.match(/•/g) ?? []).length;
    const failed = (text.match(/\[FAIL\]|\[FAILED\]/g) ?? []).length;
    say(`  ${name}: about ${done}/${total} specs done${failed ? `, failures reported: ${failed}` : ""}`);
  }, 60000);
  try {
    // ginkgo exits non-zero when a spec fails: the report says which, so that is no error here.
    await logged(`ginkgo ${name}`, tools.ginkgo, args, { log, cwd: runDir, reject: false });
  } finally {
    clearInterval(ticker);
  }
}

let clusterUp = false;
let removeStandIn = async () => {};
async function deleteCluster() {
  if (!clusterUp || opts["keep-cluster"]) return;
  clusterUp = false;
  await removeStandIn();
  await kubeyard(["delete"], path.join(runDir, "cluster.log")).catch((err) => say(`cluster deletion failed: ${err.message}`));
}
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
]) {
  process.on(signal, async () => {
    stopping = true;
    if (current) {
      current.kill(signal);
      await current.catch(() => undefined);
    }
    say(`${signal}: deleting the cluster`);
    await deleteCluster();
    process.exit(code);
  });
}

try {
  const tools = await ensureTools();
  say(`e2e.test and ginkgo: ${TOOLS_DIR}`);
  const kubectl = await kubectlPath();
  const refs = await ensureImages();
  const clusterLog = path.join(runDir, "cluster.log");
  clusterUp = true;
  // The cluster writes no entry to the user's kubeconfig; the suite gets its own file.
  await kubeyard(["start", "--nodes", "3", "--no-kubeconfig"], clusterLog);
  const kubeconfig = path.join(runDir, "kubeconfig");
  const kc = await execa("node", [KUBEYARD, "-p", opts.profile, "kubeconfig"]);
  await writeFile(kubeconfig, kc.stdout + "\n", { mode: 0o600 });
  await chmod(kubeconfig, 0o600);
  await kubeyard(["image", "load", ...refs], clusterLog);
  say(`a local registry standing in for registry.k8s.io, for the specs that pull with imagePullPolicy: Always`);
  removeStandIn = await startRegistryStandIn({ driver: await createDriver(), profile: opts.profile, kubernetes: KUBERNETES, refs, say });
  await ginkgoPhase("parallel", tools, kubeconfig, kubectl, "Conformance && !Serial", procs);
  if (!stopping) await ginkgoPhase("serial", tools, kubeconfig, kubectl, "Conformance && Serial", 1);
} catch (err) {
  say(`stopped: ${err.message}`);
  process.exitCode = 1;
} finally {
  await deleteCluster();
}

const summary = await summarizeReports(runDir);
await writeFile(path.join(runDir, "summary.txt"), summary.text);
console.log(`\n${summary.text}`);
say(`done; reports and logs: ${runDir}`);
if (summary.failed) process.exitCode = 1;
