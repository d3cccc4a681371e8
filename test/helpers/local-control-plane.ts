import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";
import { etcdArgs, kubeApiserverArgs, type ComponentContext } from "../../src/components/index.js";
import { resolveConfig, type ClusterConfig } from "../../src/config/index.js";
import { kubeClient, waitForApiReady } from "../../src/kube/index.js";
import { ensureClusterPki, pkiPaths } from "../../src/pki/index.js";
import { eventually } from "./poll.js";

/**
 * etcd and kube-apiserver started as plain processes on 127.0.0.1, with the flags src/components
 * renders and the PKI src/pki makes, from the cached binaries of the default Kubernetes version.
 * No kubelet, no controllers unless a test starts them (`spawn`): objects are stored and served,
 * nothing acts on them.
 */
export interface LocalControlPlane {
  config: ClusterConfig;
  /** What src/components rendered the processes' flags from, for rendering more of them. */
  ctx: ComponentContext;
  kc: KubeConfig;
  server: string;
  /** The admin identity's PEM files, for requests made without a Kubernetes client. */
  admin: { ca: string; cert: string; key: string };
  /** The directories of the cached Kubernetes and etcd binaries. */
  binaries: { kubernetes: string; etcd: string };
  dir: string;
  /** Starts one more process beside etcd and the API server, its log with theirs; `stop` ends it too. */
  spawn(name: string, binary: string, args: string[]): ControlPlaneProcess;
  /**
   * `eventually`, for as long as the processes it depends on run: one that exits ends the wait at
   * once, and a failure carries the processes' logs.
   */
  until<T>(what: string, attempt: () => Promise<T>, timeoutMs?: number): Promise<T>;
  /** The last lines of each process's log, for failure messages. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export interface ControlPlaneProcess {
  name: string;
  /** Settles when the process has exited, with how (a signal, an exit code or a spawn error). */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL if it has not gone after a while; resolves once it has exited. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

/** The cached binaries of an artifact; missing ones fail the test, saying how to get them. */
async function cachedBinaries(name: string, version: string): Promise<string> {
  const cache = new ArtifactCache();
  for (const source of ["source", "release"] as const) {
    const entry = await cache.get(name, version, source);
    if (entry) return entry.dir;
  }
  throw new Error(
    `no cached ${name} ${version} binaries under ${cache.root}: run "kubeyard artifacts fetch" (or build them from source) first`,
  );
}

/** Ports the kernel just handed out, so nothing else on the machine listens on them. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface Proc extends ControlPlaneProcess {
  child: ChildProcess;
  log: string;
}

function startProcess(name: string, binary: string, args: string[], logDir: string): Proc {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, "a");
  const child = spawn(binary, args, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  // Should the test run itself end before stop(), the process still goes with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`));
    child.once("error", (error) => resolve(error.message));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return { name, child, log, exited, stop };
}

const running = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

async function tail(p: Proc): Promise<string> {
  const text = await readFile(p.log, "utf8").catch(() => "");
  return `--- ${p.name}\n${text.split("\n").slice(-30).join("\n")}`;
}

export async function startLocalControlPlane(profile = "kube-apply"): Promise<LocalControlPlane> {
  const versions = findVersion(DEFAULT_KUBERNETES_VERSION)!;
  const k8sBin = await cachedBinaries("kubernetes", versions.kubernetes);
  const etcdBin = await cachedBinaries("etcd", versions.etcd);
  const dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-cp-"));
  const [etcdClient, etcdPeer, etcdMetrics, apiServer] = (await freePorts(4)) as [number, number, number, number];

  const config = await resolveConfig({ flags: { profile } });
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
    controlPlanes: [{ name: node.name, ip: HOST }],
    clusterName: config.name,
  });
  const ctx: ComponentContext = {
    // In a node the API server listens on every address; here it stays on loopback.
    cluster: { ...config, extraArgs: { ...config.extraArgs, "kube-apiserver": { "bind-address": HOST } } },
    node: { ...node, ip: HOST, podCIDR: "10.244.0.0/24", cgroupRoot: "/kubeyard/test" },
    controlPlanes: [{ name: node.name, ip: HOST }],
    apiServerEndpoint: `https://${HOST}:${apiServer}`,
    ports: { etcdClient, etcdPeer, etcdMetrics, apiServer },
    layout,
  };
  const pki = (p: string) => readFile(path.join(layout.pkiDir, p), "utf8");
  const server = `https://${HOST}:${apiServer}`;
  const admin = { ca: await pki(pkiPaths.ca.cert), cert: await pki(pkiPaths.admin.cert), key: await pki(pkiPaths.admin.key) };
  const kc = kubeClient({ server, caPem: admin.ca, certPem: admin.cert, keyPem: admin.key });

  const logDir = path.join(dir, "logs");
  await mkdir(logDir);
  await mkdir(layout.kubernetesDir);
  const procs = [
    startProcess("etcd", path.join(etcdBin, "etcd"), etcdArgs(ctx), logDir),
    startProcess("kube-apiserver", path.join(k8sBin, "kube-apiserver"), kubeApiserverArgs(ctx), logDir),
  ];
  const logs = async () => (await Promise.all(procs.map(tail))).join("\n");
  const stop = async () => {
    // The API server first, so it does not spend its shutdown retrying a vanished etcd.
    for (const p of [...procs].reverse()) await p.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const spawnMore = (name: string, binary: string, args: string[]) => {
    const p = startProcess(name, binary, args, logDir);
    procs.push(p);
    return p;
  };
  const until = async <T>(what: string, attempt: () => Promise<T>, timeoutMs = 180_000): Promise<T> => {
    const gone = new AbortController();
    for (const p of procs.filter(running)) void p.exited.then((how) => gone.abort(new Error(`${p.name} exited (${how})`)));
    try {
      return await eventually(what, attempt, { timeoutMs, intervalMs: 500, signal: gone.signal });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await logs()}`, { cause: error });
    } finally {
      gone.abort();
    }
  };

  // A process that dies on a bad flag ends the wait at once, with its log.
  const abort = new AbortController();
  const died = Promise.race(procs.map((p) => p.exited.then((how) => ({ p, how }))));
  void died.then(() => abort.abort(new Error("a control-plane process exited")));
  try {
    await waitForApiReady(kc, { timeoutMs: 180_000, signal: abort.signal });
  } catch (error) {
    const dead = abort.signal.aborted ? await died : undefined;
    const why = dead ? `${dead.p.name} exited (${dead.how})` : (error as Error).message;
    const detail = await logs();
    await stop();
    throw new Error(`the local control plane did not come up: ${why}\n${detail}`);
  }
  const binaries = { kubernetes: k8sBin, etcd: etcdBin };
  return { config, ctx, kc, server, admin, binaries, dir, spawn: spawnMore, until, logs, stop };
}
