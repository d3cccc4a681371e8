import { spawn, execFile, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";
import {
  componentArgs,
  componentKubeconfig,
  componentsFor,
  etcdArgs,
  kubeApiserverArgs,
  kubeControllerManagerArgs,
  kubeSchedulerArgs,
  kubeSchedulerConfig,
  pathsOf,
  type ComponentContext,
  type ComponentPorts,
} from "../../src/components/index.js";
import { resolveConfig } from "../../src/config/index.js";
import { ensureClusterPki, pkiPaths } from "../../src/pki/index.js";

/**
 * etcd and kube-apiserver, with the flags src/components renders, started as plain processes on
 * 127.0.0.1 from the cached binaries: the rendered flags must bring up a control plane that serves
 * TLS with the kubeyard PKI, reaches etcd over mutual TLS, and refuses anonymous callers.
 */

const versions = findVersion(DEFAULT_KUBERNETES_VERSION)!;
const NODE_IP = "127.0.0.1";
const READY_WITHIN_MS = 180_000;

/** The cached binaries of an artifact, built from source or downloaded, whichever exists. */
async function cachedBinaries(name: string, version: string): Promise<string> {
  const cache = new ArtifactCache();
  for (const source of ["source", "release"] as const) {
    const entry = await cache.get(name, version, source);
    if (entry) return entry.dir;
  }
  throw new Error(
    `no cached ${name} ${version} binaries (neither a source build nor a release download) under ${cache.root}: ` +
      `run "kubeyard artifacts fetch --kubernetes-version ${versions.kubernetes}" first`,
  );
}

/** Ports the kernel has just handed out, so nothing else on the machine is listening on them. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = net.createServer();
      return new Promise<net.Server>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, NODE_IP, () => resolve(server));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface Started {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

function start(name: string, binary: string, args: string[], logDir: string): Started {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, "a");
  const child = spawn(binary, args, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  // Should the test run itself be ended before afterAll, the process still goes with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null)));
    child.once("error", () => resolve(-1));
  });
  return { name, child, log, exited };
}

async function logTail(p: Started): Promise<string> {
  const text = await readFile(p.log, "utf8").catch(() => "");
  return text.split("\n").slice(-30).join("\n");
}

/** SIGTERM, then SIGKILL if the process has not gone after a while; resolves once it has exited. */
async function stop(p: Started): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const gone = await Promise.race([p.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  if (!gone) {
    p.child.kill("SIGKILL");
    await p.exited;
  }
}

interface Response {
  status: number;
  body: string;
}

function get(port: number, urlPath: string, tls: { ca: string; cert?: string; key?: string }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: NODE_IP, port, path: urlPath, method: "GET", ...tls, agent: false, timeout: 10_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

describe("etcd and kube-apiserver as plain processes", () => {
  let dir: string;
  let ctx: ComponentContext;
  let ports: ComponentPorts;
  let k8sBin: string;
  let etcdBin: string;
  let admin: { ca: string; cert: string; key: string };
  const processes: Started[] = [];

  beforeAll(async () => {
    k8sBin = await cachedBinaries("kubernetes", versions.kubernetes);
    etcdBin = await cachedBinaries("etcd", versions.etcd);
    dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-control-plane-"));
    const [etcdClient, etcdPeer, etcdMetrics, apiServer] = await freePorts(4);
    ports = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, etcdMetrics: etcdMetrics!, apiServer: apiServer! };

    const config = await resolveConfig({ flags: { profile: "cp-processes" } });
    const node = config.nodes[0]!;
    const layout = {
      pkiDir: path.join(dir, "pki"),
      kubernetesDir: path.join(dir, "kubernetes"),
      etcdDataDir: path.join(dir, "etcd"),
      argsDir: path.join(dir, "args"),
      cniConfDir: path.join(dir, "cni"),
    };
    await ensureClusterPki(layout.pkiDir, {
      serviceSubnet: config.networking.serviceSubnet,
      dnsDomain: config.networking.dnsDomain,
      controlPlanes: [{ name: node.name, ip: NODE_IP }],
      clusterName: config.name,
    });
    ctx = {
      // In a node the API server listens on every address; here it must stay on loopback.
      cluster: { ...config, extraArgs: { ...config.extraArgs, "kube-apiserver": { "bind-address": NODE_IP } } },
      node: { ...node, ip: NODE_IP, podCIDR: "10.244.0.0/24", cgroupRoot: "/kubeyard/test" },
      controlPlanes: [{ name: node.name, ip: NODE_IP }],
      apiServerEndpoint: `https://${NODE_IP}:${ports.apiServer}`,
      ports,
      layout,
    };
    const pki = (p: string) => readFile(path.join(layout.pkiDir, p), "utf8");
    admin = { ca: await pki(pkiPaths.ca.cert), cert: await pki(pkiPaths.admin.cert), key: await pki(pkiPaths.admin.key) };

    const logs = path.join(dir, "logs");
    await mkdir(logs);
    await mkdir(layout.kubernetesDir);
    processes.push(start("etcd", path.join(etcdBin, "etcd"), etcdArgs(ctx), logs));
    processes.push(start("kube-apiserver", path.join(k8sBin, "kube-apiserver"), kubeApiserverArgs(ctx), logs));

    // Bounded polling: the API server answers /readyz "ok" once it has reached etcd and finished its
    // post-start hooks; a process that dies on a bad flag fails the wait at once, with its log.
    const deadline = Date.now() + READY_WITHIN_MS;
    let last = "no answer yet";
    for (;;) {
      const dead = processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${await logTail(dead)}`);
      const res = await get(ports.apiServer, "/readyz", admin).catch((e: Error) => ({ status: 0, body: e.message }));
      if (res.status === 200 && res.body === "ok") break;
      last = `${res.status} ${res.body}`;
      if (Date.now() > deadline) {
        const tails = await Promise.all(processes.map(async (p) => `--- ${p.name}\n${await logTail(p)}`));
        throw new Error(`kube-apiserver was not ready within ${READY_WITHIN_MS / 1000}s; last /readyz: ${last}\n${tails.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }, READY_WITHIN_MS + 60_000);

  afterAll(async () => {
    // The API server first, so it does not spend its shutdown retrying a vanished etcd.
    for (const p of [...processes].reverse()) await stop(p);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("is ready, with etcd reached over TLS", async () => {
    const res = await get(ports.apiServer, "/readyz?verbose", admin);
    expect(res.status).toBe(200);
    expect(res.body).toContain("[+]etcd ok");
  });

  it("reports the Kubernetes version it was built as", async () => {
    const res = await get(ports.apiServer, "/version", admin);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).gitVersion).toBe(`v${versions.kubernetes}`);
  });

  it("rejects a caller without a client certificate with 401", async () => {
    const res = await get(ports.apiServer, "/api", { ca: admin.ca });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ kind: "Status", reason: "Unauthorized" });
  });

  it("lets the admin identity list namespaces", async () => {
    const res = await get(ports.apiServer, "/api/v1/namespaces", admin);
    expect(res.status).toBe(200);
    const names = (JSON.parse(res.body).items as { metadata: { name: string } }[]).map((n) => n.metadata.name);
    expect(names).toContain("kube-system");
  });

  /** Starts the controller manager and scheduler of `context`, with serving ports off the defaults. */
  async function startControllers(context: ComponentContext): Promise<Started[]> {
    const [cmPort, schedPort] = await freePorts(2);
    // Their serving ports moved off the defaults so that nothing else on the machine is in the way.
    const withPorts: ComponentContext = {
      ...context,
      cluster: {
        ...context.cluster,
        extraArgs: {
          ...context.cluster.extraArgs,
          "kube-controller-manager": { "secure-port": String(cmPort) },
          "kube-scheduler": { "secure-port": String(schedPort) },
        },
      },
    };
    for (const identity of ["controller-manager", "scheduler"] as const) {
      await writeFile(pathsOf(withPorts).kubeconfig(identity), componentKubeconfig(withPorts, identity), { mode: 0o600 });
    }
    await writeFile(pathsOf(withPorts).schedulerConfig, kubeSchedulerConfig(withPorts));
    const logs = path.join(dir, "logs");
    const started = [
      start("kube-controller-manager", path.join(k8sBin, "kube-controller-manager"), kubeControllerManagerArgs(withPorts), logs),
      start("kube-scheduler", path.join(k8sBin, "kube-scheduler"), kubeSchedulerArgs(withPorts), logs),
    ];
    processes.push(...started);
    return started;
  }

  /** Polls `probe` until it returns true; on timeout, fails with `what` and the components' logs. */
  async function until(started: Started[], what: string, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + READY_WITHIN_MS;
    for (;;) {
      const dead = started.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${await logTail(dead)}`);
      if (await probe()) return;
      if (Date.now() > deadline) {
        const tails = await Promise.all(started.map(async (p) => `--- ${p.name}\n${await logTail(p)}`));
        throw new Error(`${what} within ${READY_WITHIN_MS / 1000}s\n${tails.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  const leaseHolder = async (lease: string) => {
    const res = await get(ports.apiServer, `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease}`, admin);
    return res.status === 200 ? (JSON.parse(res.body).spec?.holderIdentity as string | undefined) : undefined;
  };

  it("with one control plane, runs the controller manager's controllers at once, each as its own service account, electing no leader", async () => {
    const started = await startControllers(ctx);
    // use-service-account-credentials: the controller manager makes each controller's service
    // account with its own identity, which RBAC allows it and nobody else but an admin.
    await until(started, "no deployment-controller service account", async () => {
      const res = await get(ports.apiServer, "/api/v1/namespaces/kube-system/serviceaccounts/deployment-controller", admin);
      return res.status === 200;
    });
    expect(await leaseHolder("kube-controller-manager")).toBeUndefined();
    expect(await leaseHolder("kube-scheduler")).toBeUndefined();
    for (const p of started) await stop(p);
  }, READY_WITHIN_MS + 60_000);

  it("with several control planes, brings up the controller manager and scheduler, which take their leader leases as themselves", async () => {
    // A second member, never started: only the controller manager's and scheduler's flags read it.
    const several: ComponentContext = { ...ctx, controlPlanes: [...ctx.controlPlanes, { name: "other-control-plane", ip: "127.0.0.3" }] };
    const started = await startControllers(several);
    const holders = new Map<string, string>();
    await until(started, "leader leases not taken", async () => {
      for (const lease of ["kube-controller-manager", "kube-scheduler"]) {
        const holder = await leaseHolder(lease);
        if (holder) holders.set(lease, holder);
      }
      return holders.size === 2;
    });
    // A held lease shows each one reached the API server with its kubeconfig's certificate and
    // that RBAC let it write its lease, which only its own identity (or an admin) may.
    expect([...holders.keys()].sort()).toEqual(["kube-controller-manager", "kube-scheduler"]);
    for (const p of started) await stop(p);
  }, READY_WITHIN_MS + 60_000);

  it("renders only flags that the cached binaries know", async () => {
    const run = promisify(execFile);
    const known = async (binary: string) => {
      // etcd prints its help to stderr, the Kubernetes components to stdout.
      const { stdout, stderr } = await run(binary, ["--help"], { maxBuffer: 16 * 1024 * 1024 });
      return new Set([...`${stdout}\n${stderr}`.matchAll(/^\s+--([a-z0-9][a-z0-9-]*)/gm)].map((m) => m[1]!));
    };
    const unknown: string[] = [];
    for (const component of componentsFor("control-plane")) {
      const dirOf = component === "etcd" ? etcdBin : k8sBin;
      const flags = await known(path.join(dirOf, component));
      for (const arg of componentArgs(ctx, component)) {
        const name = /^--([^=]+)=/.exec(arg)![1]!;
        if (!flags.has(name)) unknown.push(`${component} --${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
