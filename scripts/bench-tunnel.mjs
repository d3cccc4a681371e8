// The tunnel benchmark: HTTP throughput and p99 latency through `kubeyard tunnel` next to direct
// NodePort access, in the same run, against the same keep-alive backend (agnhost netexec, two
// replicas). wrk drives both on 50 connections; the direct and tunnelled runs alternate.
//
//   npm run bench -- --suite tunnel [--runs 3]
import Docker from "dockerode";
import { execa } from "execa";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureTestImage } from "../dist/src/artifacts/test-images.js";

const WRK = ["-t", "2", "-c", "50", "-d", "10s", "--latency"];

/** Requests/s and p99 latency (ms) from wrk's report. */
function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const m = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(text);
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? "0";
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  if (!rps || !m) throw new Error(`could not read wrk's report:\n${text}`);
  const p99 = Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  return { rps, p99, errors: Number(errors) + socketErrors };
}

export async function tunnelSuite({ cli, env, kubectlBin, runs, out, median }) {
  const p = `bench-tunnel-${Math.random().toString(36).slice(2, 7)}`;
  const ky = (args, opts = {}) => execa("node", [cli, "-p", p, ...args], { env, ...opts });
  const kubectl = (args) => execa(kubectlBin, ["--context", p, ...args], { env });
  const image = await ensureTestImage(new Docker(), "agnhost");
  const results = [];
  let tunnel;
  try {
    await ky(["start"]);
    await ky(["image", "load", image]);
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
        - {name: netexec, image: ${image}, imagePullPolicy: Never, args: [netexec, --http-port=8080, --udp-port=-1]}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  type: LoadBalancer
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
`;
    await execa(kubectlBin, ["--context", p, "apply", "-f", "-"], { env, input: manifest });
    await kubectl(["rollout", "status", "deployment/echo", "--timeout=300s"]);
    tunnel = ky(["tunnel"], { reject: false });
    let lb = "";
    for (let i = 0; i < 600 && !lb; i++) {
      lb = (await kubectl(["get", "svc", "echo", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"])).stdout.trim();
      if (!lb) await new Promise((r) => setTimeout(r, 100));
    }
    if (!lb) throw new Error("the tunnel gave the Service no address");
    const nodePort = (await kubectl(["get", "svc", "echo", "-o", "jsonpath={.spec.ports[0].nodePort}"])).stdout.trim();
    const nodeIP = (await kubectl(["get", "nodes", "-o", "jsonpath={.items[0].status.addresses[?(@.type==\"InternalIP\")].address}"])).stdout.trim();
    const urls = { direct: `http://${nodeIP}:${nodePort}/hostname`, tunnel: `http://${lb}:80/hostname` };
    // A short warm-up of both paths (conntrack entries, the pods' first connections).
    for (const url of Object.values(urls)) await execa("wrk", ["-t", "1", "-c", "10", "-d", "2s", url]);
    for (let i = 1; i <= runs; i++) {
      const r = { run: i };
      for (const way of i % 2 ? ["direct", "tunnel"] : ["tunnel", "direct"]) r[way] = parseWrk((await execa("wrk", [...WRK, urls[way]])).stdout);
      r.ratio = r.tunnel.rps / r.direct.rps;
      results.push(r);
      process.stdout.write(
        `run ${i}: direct ${r.direct.rps.toFixed(0)} req/s p99 ${r.direct.p99.toFixed(1)} ms; tunnel ${r.tunnel.rps.toFixed(0)} req/s p99 ${r.tunnel.p99.toFixed(1)} ms (${(100 * r.ratio).toFixed(0)} %)\n`,
      );
    }
  } finally {
    tunnel?.kill("SIGINT");
    await tunnel;
    await ky(["delete"]).catch(() => undefined);
  }
  const medians = {
    directRps: median(results.map((r) => r.direct.rps)),
    directP99Ms: median(results.map((r) => r.direct.p99)),
    tunnelRps: median(results.map((r) => r.tunnel.rps)),
    tunnelP99Ms: median(results.map((r) => r.tunnel.p99)),
    ratio: median(results.map((r) => r.ratio)),
    errors: results.reduce((a, r) => a + r.direct.errors + r.tunnel.errors, 0),
  };
  process.stdout.write(`\nmedians over ${runs} runs (wrk ${WRK.join(" ")}, agnhost netexec /hostname, 2 replicas)\n`);
  process.stdout.write(`| path | requests/s | p99 latency (ms) |\n| --- | --- | --- |\n`);
  process.stdout.write(`| direct NodePort | ${medians.directRps.toFixed(0)} | ${medians.directP99Ms.toFixed(1)} |\n`);
  process.stdout.write(`| through the tunnel | ${medians.tunnelRps.toFixed(0)} | ${medians.tunnelP99Ms.toFixed(1)} |\n`);
  process.stdout.write(`tunnel/direct throughput: ${(100 * medians.ratio).toFixed(0)} %; errors: ${medians.errors}\n`);
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), suite: "tunnel", wrk: WRK, machine, runs: results, medians }, null, 2) + "\n");
  process.stdout.write(`written to ${out}\n`);
}
