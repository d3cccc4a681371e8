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

/**
 * etcd and kube-apiserver started as plain processes on 127.0.0.1, with the flags src/components
 * renders and the PKI src/pki makes, from the cached binaries of the default Kubernetes version.
 * No kubelet, no controllers: objects are stored and served, nothing acts on them.
 */
export interface LocalControlPlane {
  config: ClusterConfig;
  kc: KubeConfig;
  server: string;
  dir: string;
  /** The last lines of each process's log, for failure messages. */
  logs(): Promise<string>;
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
async function freePorts(count: number): Promise<number[]> {
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

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<string>;
}

function startProcess(name: string, binary: string, args: string[], logDir: string): Proc {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, "a");
  const child = spawn(binary, args, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`));
    child.once("error", (error) => resolve(error.message));
  });
  return { name, child, log, exited };
}

async function stopProcess(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 15_000);
  await p.exited;
  clearTimeout(timer);
}

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
  const kc = kubeClient({
    server,
    caPem: await pki(pkiPaths.ca.cert),
    certPem: await pki(pkiPaths.admin.cert),
    keyPem: await pki(pkiPaths.admin.key),
  });

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
    for (const p of [...procs].reverse()) await stopProcess(p);
    await rm(dir, { recursive: true, force: true });
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
  return { config, kc, server, dir, logs, stop };
}
