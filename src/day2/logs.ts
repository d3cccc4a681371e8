import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { create as createTar } from "tar";
import type { NodeDriver, NodeInfo } from "../drivers/types.js";
import {
  CRIO_SOCKET,
  KUBE_PROXY_NAME,
  KUBE_PROXY_NAMESPACE,
  STATIC_POD_COMPONENTS,
  STATIC_POD_NAMESPACE,
  SUPERVISED_COMPONENTS,
} from "../components/index.js";
import { loadPki } from "../pki/store.js";
import { UserError } from "../util/errors.js";
import { readTarFiles } from "../util/tar-read.js";
import { clusterKubectl } from "./kubectl.js";
import { pkiDir, readState, type ClusterState } from "../cluster/state.js";

/**
 * The runit services of a node, each logging to /var/log/kubeyard/<name>/ (svlogd: current and rotated @*.s
 * files); of the two runtimes, only the one the node runs has a log.
 */
export const COMPONENTS = [...SUPERVISED_COMPONENTS, "containerd", "crio"] as const;
/** The components that run as pods, whose logs go next to the services' as <name>.log too. */
const POD_COMPONENTS: readonly (readonly [namespace: string, name: string])[] = [
  ...STATIC_POD_COMPONENTS.map((c) => [STATIC_POD_NAMESPACE, c] as const),
  [KUBE_PROXY_NAMESPACE, KUBE_PROXY_NAME],
];

/** True in a node that runs CRI-O (its socket exists); the node's crictl is configured for it. */
const RUNS_CRIO = `[ -S ${CRIO_SOCKET} ]`;

/** Commands whose output describes a node; none of them prints key material. */
const NODE_COMMANDS: Record<string, string> = {
  "uname.txt": "uname -a",
  "os-release.txt": "cat /etc/os-release",
  "services.txt": "sv status /etc/service/*",
  "processes.txt": "ps -eo pid,ppid,etime,rss,args 2>/dev/null || ls -l /proc/*/exe",
  "addresses.txt": "ip addr; echo; ip route",
  "iptables.txt": "iptables-save; echo; ip6tables-save",
  "disk.txt": "df -h; echo; df -i",
  "memory.txt": "cat /proc/meminfo",
  "containers.txt": `if ${RUNS_CRIO}; then crictl pods; echo; crictl ps -a; else ctr -n k8s.io containers ls; echo; ctr -n k8s.io tasks ls; fi`,
  "images.txt": `if ${RUNS_CRIO}; then crictl images; else ctr -n k8s.io images ls; fi`,
  "component-args.txt": 'for f in /etc/kubeyard/args/*; do [ -f "$f" ] && { echo "== $f"; cat "$f"; echo; }; done',
  "static-pods.txt": 'for f in /etc/kubernetes/manifests/*; do [ -f "$f" ] && { echo "== $f"; cat "$f"; echo; }; done',
  "cni.txt": 'for f in /etc/cni/net.d/*; do [ -f "$f" ] && { echo "== $f"; cat "$f"; echo; }; done',
};

/** `kubectl` views of the cluster, each into cluster/<name>.txt. */
const CLUSTER_VIEWS: Record<string, string[]> = {
  version: ["version"],
  nodes: ["get", "nodes", "-o", "wide", "--show-labels"],
  "describe-nodes": ["describe", "nodes"],
  pods: ["get", "pods", "-A", "-o", "wide"],
  events: ["get", "events", "-A", "--sort-by=.lastTimestamp"],
  all: ["get", "all", "-A", "-o", "wide"],
};

export interface LogsResult {
  /** The directory or .tar.gz written. */
  path: string;
  archive: boolean;
  nodes: string[];
  /** What could not be collected (a paused node's processes, an API server that does not answer...). */
  problems: string[];
}

/** A FILE.tar.gz / .tgz output is an archive; anything else is a directory. */
export function isArchiveOutput(output: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(output);
}

export function defaultLogsOutput(profile: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  return `kubeyard-logs-${profile}-${stamp}.tar.gz`;
}

/**
 * Collects what a bug report needs into a directory or a .tar.gz: per node every component's log,
 * the pods' logs and the node's processes, addresses, firewall rules, disks and runtime state; the
 * cluster's nodes, pods and events as kubectl shows them; kubeyard's record of the cluster. Key
 * material is kept out: nothing is read from the PKI folders, and every file is scrubbed of PEM
 * private keys, kubeconfig credentials and the cluster's own keys before it is written. An
 * existing output (other than an empty directory) is refused, so nothing of the user's is overwritten.
 */
export async function collectLogs(
  driver: NodeDriver,
  profile: string,
  output: string,
  opts: { kubeyardVersion?: string } = {},
): Promise<LogsResult> {
  const target = path.resolve(output);
  const archive = isArchiveOutput(target);
  await checkOutput(target, archive);
  const state = await readState(profile);
  const nodes = await driver.listNodes(profile);
  if (!state && !nodes.length)
    throw new UserError(`there is no cluster "${profile}"`, "`kubeyard profile list` shows the clusters there are.");

  const scrub = await scrubberFor(profile);
  const problems: string[] = [];
  const name = archive ? path.basename(target).replace(/\.(tar\.gz|tgz)$/i, "") : path.basename(target);
  const staging = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString("hex")}.partial`);
  const root = path.join(staging, name);
  const write = async (rel: string, text: string) => {
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, scrub(text));
  };
  try {
    await fs.mkdir(root, { recursive: true });
    await write(
      "kubeyard.json",
      JSON.stringify({ profile, kubeyardVersion: opts.kubeyardVersion, collectedAt: new Date().toISOString(), nodes }, null, 2) + "\n",
    );
    if (state) await write("cluster.json", JSON.stringify(redactState(state), null, 2) + "\n");
    await Promise.all([
      ...nodes.map((n) => collectNode(driver, n, write, problems)),
      state ? collectClusterViews(profile, write, problems) : Promise.resolve(),
    ]);
    if (problems.length) await write("problems.txt", problems.join("\n") + "\n");

    if (archive) {
      const partial = `${target}.${randomBytes(4).toString("hex")}.partial`;
      await createTar({ gzip: true, cwd: staging, file: partial, portable: true }, [name]);
      await fs.rename(partial, target);
    } else {
      await fs.rmdir(target).catch(() => undefined);
      await fs.rename(root, target);
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return { path: target, archive, nodes: nodes.map((n) => n.name), problems };
}

async function checkOutput(target: string, archive: boolean): Promise<void> {
  const st = await fs.stat(target).catch(() => undefined);
  if (st && archive) throw new UserError(`--output ${target} already exists`, "Give a new file name; kubeyard does not overwrite it.");
  if (st && !st.isDirectory())
    throw new UserError(`--output ${target} already exists and is not a directory`, "Give a new directory or a FILE.tar.gz.");
  if (st && (await fs.readdir(target)).length)
    throw new UserError(`--output ${target} is a directory that is not empty`, "Give a new or empty directory, or a FILE.tar.gz.");
  const parent = await fs.stat(path.dirname(target)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new UserError(`--output ${target}: the directory ${path.dirname(target)} does not exist`);
}

type Write = (rel: string, text: string) => Promise<void>;

async function collectNode(driver: NodeDriver, node: NodeInfo, write: Write, problems: string[]): Promise<void> {
  const dir = `nodes/${node.name}`;
  await write(`${dir}/node.json`, JSON.stringify(node, null, 2) + "\n");
  // The engine copies files out of a stopped or paused node too; only commands need it running.
  try {
    const files = await readTar(await driver.readArchive(node.name, "/var/log/kubeyard"));
    for (const c of COMPONENTS) {
      const log = componentLog(files, c);
      if (log) await write(`${dir}/${c}.log`, log);
    }
  } catch (err) {
    problems.push(`${node.name}: component logs: ${(err as Error).message}`);
  }
  try {
    const pods = await readTar(await driver.readArchive(node.name, "/var/log/pods"));
    for (const [p, text] of pods) await write(`${dir}/pods/${p.replace(/^pods\//, "")}`, text);
    for (const [namespace, name] of POD_COMPONENTS) {
      const log = podLog(pods, namespace, name);
      if (log) await write(`${dir}/${name}.log`, log);
    }
  } catch (err) {
    problems.push(`${node.name}: pod logs: ${(err as Error).message}`);
  }
  if (node.state !== "running") {
    problems.push(`${node.name}: the node is ${node.state}, so only its log files were collected`);
    return;
  }
  await Promise.all(
    Object.entries(NODE_COMMANDS).map(async ([file, script]) => {
      const r = await driver
        .exec(node.name, ["bash", "-c", script])
        .catch((err: Error) => ({ exitCode: -1, stdout: "", stderr: err.message }));
      await write(
        `${dir}/${file}`,
        `$ ${script}\n${r.stdout}${r.stderr ? `\n--- stderr ---\n${r.stderr}` : ""}${r.exitCode ? `\n(exit code ${r.exitCode})\n` : ""}`,
      );
    }),
  );
}

async function collectClusterViews(profile: string, write: Write, problems: string[]): Promise<void> {
  let kubectl: Awaited<ReturnType<typeof clusterKubectl>>;
  try {
    kubectl = await clusterKubectl(profile);
  } catch (err) {
    problems.push(`cluster views: no kubectl: ${(err as Error).message}`);
    return;
  }
  await Promise.all(
    Object.entries(CLUSTER_VIEWS).map(async ([file, args]) => {
      const r = await execa(kubectl.binary, ["--request-timeout=15s", ...args], {
        env: { ...process.env, KUBECONFIG: kubectl.kubeconfig },
        reject: false,
        timeout: 60_000,
      });
      if (r.exitCode !== 0) problems.push(`cluster views: kubectl ${args.join(" ")} failed (${r.exitCode ?? r.signal})`);
      await write(
        `cluster/${file}.txt`,
        `$ kubectl ${args.join(" ")}\n${String(r.stdout)}${r.stderr ? `\n--- stderr ---\n${String(r.stderr)}` : ""}`,
      );
    }),
  );
}

/** The text files of a tar stream, by path. */
async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const files = await readTarFiles(stream);
  return new Map([...files].map(([p, b]) => [p, b.toString("utf8")]));
}

/** One component's log: svlogd's rotated files (named by their TAI64N time, so they sort) and then `current`. */
export function componentLog(files: Map<string, string>, component: string): string {
  const prefix = `kubeyard/${component}/`;
  const rotated = [...files.keys()].filter((p) => p.startsWith(`${prefix}@`)).sort();
  return [...rotated, `${prefix}current`].map((p) => files.get(p) ?? "").join("");
}

/**
 * The log on a node of a component that runs as a pod (kube-proxy's DaemonSet's, a static pod
 * of the control plane), next to the other components' although it runs as a pod: the log files
 * of its pod's container of the same name (0.log, 1.log, ... one per restart) in the order they
 * were written.
 */
export function podLog(podFiles: Map<string, string>, namespace: string, name: string): string {
  const container = new RegExp(`^pods/${namespace}_${name}-[^/]+/${name}/(\\d+)\\.log$`);
  const restarts = [...podFiles.keys()]
    .map((p) => ({ p, n: Number(container.exec(p)?.[1] ?? NaN) }))
    .filter((f) => !Number.isNaN(f.n))
    .sort((a, b) => a.n - b.n);
  return restarts.map((f) => podFiles.get(f.p)).join("");
}

/** kubeyard's record of the cluster with anything that could be a credential blanked out. */
export function redactState(state: ClusterState): unknown {
  const secretKey = /token|secret|password|passwd|credential|private|key-?data|auth/i;
  const walk = (v: unknown, key = ""): unknown => {
    if (typeof v === "string") return secretKey.test(key) || /-----BEGIN/.test(v) ? "[redacted]" : v;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(state);
}

const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;
const KUBECONFIG_SECRET = /^(\s*(?:client-key-data|token|password|client-certificate-data|certificate-authority-data)\s*:\s*).+$/gm;
const BASE64_PEM = /LS0tLS1CRUdJT[A-Za-z0-9+/=]{20,}/g;
const BASE64_RUN = /[A-Za-z0-9+/]{48,}={0,2}/g;

/**
 * A function that removes key material from a text: PEM private keys, kubeconfig credentials,
 * base64-encoded PEM, and any run of the cluster's own private keys' base64 (however it got there).
 */
export async function scrubberFor(profile: string): Promise<(text: string) => string> {
  const pki = await loadPki(pkiDir(profile)).catch(() => ({}) as Record<string, string>);
  const keyLines = Object.values(pki)
    .filter((pem) => pem.includes("PRIVATE KEY"))
    .flatMap((pem) => pem.split("\n").filter((l) => l.length >= 48 && !l.startsWith("-----")));
  return (text) => scrubSecrets(text, keyLines);
}

export function scrubSecrets(text: string, keyLines: readonly string[] = []): string {
  let out = text
    .replace(PEM_PRIVATE_KEY, "[private key removed]")
    .replace(KUBECONFIG_SECRET, "$1[redacted]")
    .replace(BASE64_PEM, "[redacted]");
  if (keyLines.length)
    out = out.replace(BASE64_RUN, (run) => (keyLines.some((l) => run.includes(l) || l.includes(run)) ? "[redacted]" : run));
  return out;
}
