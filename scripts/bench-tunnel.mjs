// The tunnel benchmark: HTTP throughput and p99 latency through `kubeyard tunnel` next to direct
// NodePort access, in the same run, against the same keep-alive backend (agnhost netexec, two
// replicas). wrk drives both on 50 connections; the direct and tunnelled runs alternate.
//
// Each run also says what a request cost in CPU time: wrk's, the tunnel process's (user and kernel)
// and the node container's (the pods, containerd, kube-proxy's rules). On a machine other work
// keeps busy, throughput follows the CPU share each side wins, so the cost per request is what
// shows the tunnel's own overhead; the load average at the start of each run says how busy it was.
//
//   npm run bench -- --suite tunnel [--runs 5]
import Docker from "dockerode";
import { execa } from "execa";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureTestImage } from "../dist/src/artifacts/test-images.js";

const WRK = ["-t", "2", "-c", "50", "-d", "10s", "--latency"];

/** Requests/s, p99 latency (ms) and the number of requests from wrk's report. */
function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  const m = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(text);
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? "0";
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  if (!rps || !requests || !m) throw new Error(`could not read wrk's report:\n${text}`);
  const p99 = Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  return { rps, p99, requests, errors: Number(errors) + socketErrors };
}

/** CPU seconds a process has used so far, user and kernel (/proc/PID/stat, in clock ticks). */
function processCpu(pid, ticks) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / ticks, kernel: Number(fields[12]) / ticks };
}

/** CPU seconds a container's cgroup (with every pod nested in it) has used so far. */
async function containerCpu(container) {
  const s = await container.stats({ stream: false, "one-shot": true });
  return s.cpu_stats.cpu_usage.total_usage / 1e9;
}

/**
 * One wrk run, with the CPU time per request of wrk, of the tunnel process (when `tunnelPid` is
 * given) and of the node container. wrk runs under a shell that prints its own stat afterwards:
 * the shell's children's times are wrk's.
 */
async function measure(url, { node, tunnelPid, ticks }) {
  const tunnel0 = tunnelPid ? processCpu(tunnelPid, ticks) : undefined;
  const node0 = await containerCpu(node);
  const load = os.loadavg()[0];
  const { stdout } = await execa("sh", ["-c", 'wrk "$@" && cat /proc/$$/stat', "sh", ...WRK, url]);
  const node1 = await containerCpu(node);
  const tunnel1 = tunnelPid ? processCpu(tunnelPid, ticks) : undefined;
  const r = parseWrk(stdout);
  const shell = stdout.trim().split("\n").at(-1);
  const children = shell.slice(shell.lastIndexOf(")") + 2).split(" ");
  const us = (seconds) => (seconds * 1e6) / r.requests;
  const cpuUs = { wrk: us((Number(children[13]) + Number(children[14])) / ticks), node: us(node1 - node0) };
  if (tunnel0) {
    cpuUs.tunnelUser = us(tunnel1.user - tunnel0.user);
    cpuUs.tunnelKernel = us(tunnel1.kernel - tunnel0.kernel);
  }
  cpuUs.total = cpuUs.wrk + cpuUs.node + (cpuUs.tunnelUser ?? 0) + (cpuUs.tunnelKernel ?? 0);
  return { ...r, load, cpuUs };
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
    const node = new Docker().getContainer(`${p}-control-plane`);
    const ticks = Number((await execa("getconf", ["CLK_TCK"])).stdout);
    // A short warm-up of both paths (conntrack entries, the pods' first connections).
    for (const url of Object.values(urls)) await execa("wrk", ["-t", "1", "-c", "10", "-d", "2s", url]);
    for (let i = 1; i <= runs; i++) {
      const r = { run: i };
      for (const way of i % 2 ? ["direct", "tunnel"] : ["tunnel", "direct"]) {
        r[way] = await measure(urls[way], { node, ticks, tunnelPid: way === "tunnel" ? tunnel.pid : undefined });
      }
      r.ratio = r.tunnel.rps / r.direct.rps;
      r.costRatio = r.direct.cpuUs.total / r.tunnel.cpuUs.total;
      results.push(r);
      const cost = (x) => x.cpuUs.total.toFixed(0);
      process.stdout.write(
        `run ${i}: direct ${r.direct.rps.toFixed(0)} req/s p99 ${r.direct.p99.toFixed(1)} ms ${cost(r.direct)} µs CPU/req; ` +
          `tunnel ${r.tunnel.rps.toFixed(0)} req/s p99 ${r.tunnel.p99.toFixed(1)} ms ${cost(r.tunnel)} µs CPU/req ` +
          `(the tunnel process ${(r.tunnel.cpuUs.tunnelUser + r.tunnel.cpuUs.tunnelKernel).toFixed(0)}); ` +
          `throughput ${(100 * r.ratio).toFixed(0)} %; load ${r.direct.load.toFixed(1)}/${r.tunnel.load.toFixed(1)}\n`,
      );
    }
  } finally {
    tunnel?.kill("SIGINT");
    await tunnel;
    await ky(["delete"]).catch(() => undefined);
  }
  const m = (f) => median(results.map(f));
  const cpu = (way) => ({
    wrk: m((r) => r[way].cpuUs.wrk),
    node: m((r) => r[way].cpuUs.node),
    ...(way === "tunnel" ? { tunnelUser: m((r) => r.tunnel.cpuUs.tunnelUser), tunnelKernel: m((r) => r.tunnel.cpuUs.tunnelKernel) } : {}),
    total: m((r) => r[way].cpuUs.total),
  });
  const medians = {
    directRps: m((r) => r.direct.rps),
    directP99Ms: m((r) => r.direct.p99),
    tunnelRps: m((r) => r.tunnel.rps),
    tunnelP99Ms: m((r) => r.tunnel.p99),
    ratio: m((r) => r.ratio),
    directCpuUs: cpu("direct"),
    tunnelCpuUs: cpu("tunnel"),
    costRatio: m((r) => r.costRatio),
    load: m((r) => (r.direct.load + r.tunnel.load) / 2),
    errors: results.reduce((a, r) => a + r.direct.errors + r.tunnel.errors, 0),
  };
  const { directCpuUs: d, tunnelCpuUs: t } = medians;
  process.stdout.write(`\nmedians over ${runs} runs (wrk ${WRK.join(" ")}, agnhost netexec /hostname, 2 replicas; load average ${medians.load.toFixed(1)})\n`);
  process.stdout.write(`| path | requests/s | p99 latency (ms) | CPU per request (µs): wrk + tunnel + node container |\n| --- | --- | --- | --- |\n`);
  process.stdout.write(`| direct NodePort | ${medians.directRps.toFixed(0)} | ${medians.directP99Ms.toFixed(1)} | ${d.wrk.toFixed(0)} + 0 + ${d.node.toFixed(0)} = ${d.total.toFixed(0)} |\n`);
  process.stdout.write(
    `| through the tunnel | ${medians.tunnelRps.toFixed(0)} | ${medians.tunnelP99Ms.toFixed(1)} | ${t.wrk.toFixed(0)} + ${(t.tunnelUser + t.tunnelKernel).toFixed(0)} (${t.tunnelKernel.toFixed(0)} of it in the kernel) + ${t.node.toFixed(0)} = ${t.total.toFixed(0)} |\n`,
  );
  process.stdout.write(
    `tunnel/direct throughput: ${(100 * medians.ratio).toFixed(0)} % (median of the runs' ratios; the ratio of the medians is ${(100 * medians.tunnelRps / medians.directRps).toFixed(0)} %); at equal CPU (direct's cost per request / the tunnel's): ${(100 * medians.costRatio).toFixed(0)} %; errors: ${medians.errors}\n`,
  );
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), suite: "tunnel", wrk: WRK, machine, runs: results, medians }, null, 2) + "\n");
  process.stdout.write(`written to ${out}\n`);
}
