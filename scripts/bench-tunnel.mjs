// The tunnel benchmark: HTTP throughput and p99 latency through `kubeyard tunnel` next to direct
// NodePort access, in the same run, against the same keep-alive backend (agnhost netexec, two
// replicas). wrk drives each path on 50 connections: direct to the NodePort, through a tunnel in
// route mode (addresses on the cluster's network, forwarded by kube-proxy; the default on Linux)
// and through one in proxy mode (loopback listeners of the tunnel process). The order rotates.
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
import { createDriver } from "../dist/src/drivers/index.js";

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
  const image = await ensureTestImage((await createDriver()).images, "agnhost");
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
    const ingress = async () =>
      (await kubectl(["get", "svc", "echo", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"])).stdout.trim();
    /** Runs `fn` with a tunnel of `mode` serving the Service, given its address and the tunnel's pid. */
    const withTunnel = async (mode, fn) => {
      tunnel = ky(["tunnel", "--mode", mode], { reject: false });
      try {
        let lb = "";
        for (let i = 0; i < 600 && !lb; i++) {
          lb = await ingress();
          if (!lb) await new Promise((r) => setTimeout(r, 100));
        }
        if (!lb) throw new Error(`the ${mode} tunnel gave the Service no address`);
        const url = `http://${lb}:80/hostname`;
        // kube-proxy or the listener may need a moment after the address appears.
        for (let i = 0; i < 100 && (await execa("curl", ["-sf", "-m", "2", url], { reject: false })).exitCode !== 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        return await fn(url, tunnel.pid);
      } finally {
        tunnel.kill("SIGINT");
        await tunnel;
        tunnel = undefined;
        for (let i = 0; i < 600 && (await ingress()); i++) await new Promise((r) => setTimeout(r, 100));
      }
    };
    const nodePort = (await kubectl(["get", "svc", "echo", "-o", "jsonpath={.spec.ports[0].nodePort}"])).stdout.trim();
    const nodeIP = (
      await kubectl(["get", "nodes", "-o", 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'])
    ).stdout.trim();
    const direct = `http://${nodeIP}:${nodePort}/hostname`;
    const node = new Docker().getContainer(`${p}-control-plane`);
    const ticks = Number((await execa("getconf", ["CLK_TCK"])).stdout);
    // A short warm-up (conntrack entries, the pods' first connections).
    await execa("wrk", ["-t", "1", "-c", "10", "-d", "2s", direct]);
    const ways = {
      direct: () => measure(direct, { node, ticks }),
      route: () => withTunnel("route", (url, pid) => measure(url, { node, ticks, tunnelPid: pid })),
      proxy: () => withTunnel("proxy", (url, pid) => measure(url, { node, ticks, tunnelPid: pid })),
    };
    const order = Object.keys(ways);
    for (let i = 1; i <= runs; i++) {
      const r = { run: i };
      for (let j = 0; j < order.length; j++) {
        const way = order[(i - 1 + j) % order.length];
        r[way] = await ways[way]();
      }
      r.routeRatio = r.route.rps / r.direct.rps;
      r.proxyRatio = r.proxy.rps / r.direct.rps;
      results.push(r);
      const line = (name, x) =>
        `${name} ${x.rps.toFixed(0)} req/s p99 ${x.p99.toFixed(1)} ms ${x.cpuUs.total.toFixed(0)} µs CPU/req` +
        (x.cpuUs.tunnelUser !== undefined ? ` (the tunnel process ${(x.cpuUs.tunnelUser + x.cpuUs.tunnelKernel).toFixed(0)})` : "");
      process.stdout.write(
        `run ${i}: ${line("direct", r.direct)}; ${line("route", r.route)}; ${line("proxy", r.proxy)}; ` +
          `throughput route ${(100 * r.routeRatio).toFixed(0)} %, proxy ${(100 * r.proxyRatio).toFixed(0)} %; load ${r.direct.load.toFixed(1)}\n`,
      );
    }
  } finally {
    tunnel?.kill("SIGINT");
    await tunnel;
    await ky(["delete"]).catch(() => undefined);
  }
  const m = (f) => median(results.map(f));
  const summary = (way) => ({
    rps: m((r) => r[way].rps),
    p99Ms: m((r) => r[way].p99),
    cpuUs: {
      wrk: m((r) => r[way].cpuUs.wrk),
      node: m((r) => r[way].cpuUs.node),
      tunnel: way === "direct" ? 0 : m((r) => r[way].cpuUs.tunnelUser + r[way].cpuUs.tunnelKernel),
      total: m((r) => r[way].cpuUs.total),
    },
  });
  const medians = {
    direct: summary("direct"),
    route: summary("route"),
    proxy: summary("proxy"),
    routeRatio: m((r) => r.routeRatio),
    proxyRatio: m((r) => r.proxyRatio),
    load: m((r) => r.direct.load),
    errors: results.reduce((a, r) => a + r.direct.errors + r.route.errors + r.proxy.errors, 0),
  };
  process.stdout.write(
    `\nmedians over ${runs} runs (wrk ${WRK.join(" ")}, agnhost netexec /hostname, 2 replicas; load average ${medians.load.toFixed(1)})\n`,
  );
  process.stdout.write(
    `| path | requests/s | p99 latency (ms) | CPU per request (µs): wrk + tunnel + node container | throughput against direct |\n| --- | --- | --- | --- | --- |\n`,
  );
  const row = (name, x, ratio) =>
    `| ${name} | ${x.rps.toFixed(0)} | ${x.p99Ms.toFixed(1)} | ${x.cpuUs.wrk.toFixed(0)} + ${x.cpuUs.tunnel.toFixed(0)} + ${x.cpuUs.node.toFixed(0)} = ${x.cpuUs.total.toFixed(0)} | ${ratio} |\n`;
  process.stdout.write(row("direct NodePort", medians.direct, "—"));
  process.stdout.write(row("`kubeyard tunnel` (route)", medians.route, `${(100 * medians.routeRatio).toFixed(0)} %`));
  process.stdout.write(row("`kubeyard tunnel --mode proxy`", medians.proxy, `${(100 * medians.proxyRatio).toFixed(0)} %`));
  process.stdout.write(`(ratios: the median of the runs' ratios); errors: ${medians.errors}\n`);
  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), suite: "tunnel", wrk: WRK, machine, runs: results, medians }, null, 2) + "\n",
  );
  process.stdout.write(`written to ${out}\n`);
}
