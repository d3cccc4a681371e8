import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tar from "tar";
import type {
  AttachedIO,
  ClusterNetwork,
  EngineHost,
  ExecResult,
  FileToCopy,
  NodeDriver,
  NodeInfo,
  NodeSpec,
  NodeState,
  PortMapping,
  ServiceInfo,
  ServiceSpec,
  ServiceStore,
} from "../../src/drivers/types.js";
import { UserError } from "../../src/util/errors.js";
import { FakeImages } from "./fake-images.js";

export { FakeImages, type ImageCall } from "./fake-images.js";

/** One command run in a node (exec or execAttached), as the fake saw it. */
export interface ExecCall {
  node: string;
  cmd: string[];
  /** What was given on stdin, read to the end (streams included). */
  stdin?: string;
  env?: Record<string, string>;
  attached: boolean;
}

export type ExecHandler = (call: ExecCall) => Partial<ExecResult> | void | Promise<Partial<ExecResult> | void>;

export interface NodeFile {
  content: Buffer;
  mode: number;
}

interface FakeNode {
  spec: NodeSpec;
  state: Exclude<NodeState, "missing">;
  ip: string;
  /** Host ports the "engine" chose for mappings that asked for any (hostPort 0). */
  chosenPorts: Map<PortMapping, number>;
  files: Map<string, NodeFile>;
}

/**
 * An in-memory node driver for unit tests: networks with subnets, nodes with state, address and
 * published ports, files copied into nodes (kept per node and path, for the test to read), commands
 * answered by a handler the test sets (by default: exit 0, no output) and all recorded, and images as
 * a set of tags. Where callers rely on the engine's behaviour (an absent node's removal is no error,
 * a second ensureNetwork returns the first network, a stopped node has no address), it behaves alike.
 */
export class FakeDriver implements NodeDriver {
  /** Which engine it stands for; tests of clusters made in another set it. */
  name: NodeDriver["name"] = "docker";
  readonly images = new FakeImages();
  readonly services = new FakeServices();
  /** Every command run in a node, in order. */
  readonly execs: ExecCall[] = [];
  /** Answers commands; replace it to script a node's replies. */
  onExec: ExecHandler = () => undefined;
  /** When set, preflight fails with it (an engine that does not answer). */
  preflightError?: Error;
  /** What describeEngine answers. */
  engine: EngineHost = {
    engine: "docker",
    address: "unix:///fake.sock",
    version: "0.0.0-fake",
    rootless: false,
    cgroupVersion: 2,
    cgroupDriver: "systemd",
  };
  /** When set, freeSubnet finds no free subnet. */
  subnetsExhausted = false;
  private readonly networks = new Map<string, ClusterNetwork>();
  private readonly nodes = new Map<string, FakeNode>();
  private nextNetwork = 0;
  private nextPort = 32768;

  constructor() {
    this.images.inUse = (ref) => [...this.nodes.values()].some((n) => n.spec.image === ref);
  }

  async preflight(): Promise<void> {
    if (this.preflightError) throw this.preflightError;
  }

  async describeEngine(): Promise<EngineHost> {
    await this.preflight();
    return this.engine;
  }

  async freeSubnet(opts: { avoid?: readonly string[] } = {}): Promise<string | undefined> {
    if (this.subnetsExhausted) return undefined;
    const avoid = new Set(opts.avoid ?? []);
    let n = this.nextNetwork;
    while (avoid.has(`172.${18 + n}.0.0/16`)) n++;
    return `172.${18 + n}.0.0/16`;
  }

  async ensureNetwork(cluster: string, opts: { avoid?: readonly string[] } = {}): Promise<ClusterNetwork> {
    const existing = this.networks.get(cluster);
    if (existing) return existing;
    const avoid = new Set(opts.avoid ?? []);
    let subnet: string;
    do subnet = `172.${18 + this.nextNetwork++}.0.0/16`;
    while (avoid.has(subnet));
    const network = { name: `kubeyard-${cluster}`, subnet, gateway: subnet.replace(/0\/16$/, "1") };
    this.networks.set(cluster, network);
    return network;
  }

  async removeNetwork(cluster: string): Promise<void> {
    if (!this.networks.has(cluster)) return;
    const attached = [...this.nodes.values()].filter((n) => n.spec.cluster === cluster);
    if (attached.length) throw new UserError(`The network kubeyard-${cluster} still has containers attached, so it cannot be removed.`);
    for (const svc of await this.services.list()) svc.clusters = svc.clusters.filter((c) => c !== cluster);
    this.networks.delete(cluster);
  }

  /** The cluster's network, if there is one. */
  network(cluster: string): ClusterNetwork | undefined {
    return this.networks.get(cluster);
  }

  async createNode(spec: NodeSpec): Promise<NodeInfo> {
    if (this.nodes.has(spec.name)) throw new UserError(`A container named ${spec.name} already exists (a kubeyard node).`);
    if (!this.images.has(spec.image)) throw new UserError(`The node image ${spec.image} is not in the container engine.`);
    const network = await this.ensureNetwork(spec.cluster);
    const ip = spec.ip ?? this.freeAddress(network, spec.cluster);
    if (this.addressTaken(spec.cluster, ip)) throw new UserError(`Cannot start node ${spec.name}: its address ${ip} is already taken.`);
    const node: FakeNode = { spec, state: "running", ip, chosenPorts: new Map(), files: new Map() };
    this.checkPorts(node);
    this.publish(node);
    this.nodes.set(spec.name, node);
    return this.infoOf(node);
  }

  async startNode(name: string): Promise<NodeInfo> {
    const node = this.require(name);
    if (node.state === "stopped") {
      this.checkPorts(node);
      this.publish(node);
    }
    node.state = "running";
    return this.infoOf(node);
  }

  async stopNode(name: string): Promise<void> {
    const node = this.require(name);
    node.state = "stopped";
    node.chosenPorts.clear();
  }

  async pauseNode(name: string): Promise<void> {
    const node = this.require(name);
    if (node.state === "stopped") throw new UserError(`Node ${name} is not running.`);
    node.state = "paused";
  }

  async unpauseNode(name: string): Promise<void> {
    const node = this.require(name);
    if (node.state === "paused") node.state = "running";
  }

  async removeNode(name: string): Promise<void> {
    this.nodes.delete(name);
  }

  async listNodes(cluster?: string): Promise<NodeInfo[]> {
    return [...this.nodes.values()]
      .filter((n) => cluster === undefined || n.spec.cluster === cluster)
      .map((n) => this.infoOf(n))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async inspectNode(name: string): Promise<NodeInfo | undefined> {
    const node = this.nodes.get(name);
    return node && this.infoOf(node);
  }

  async exec(
    name: string,
    cmd: string[],
    opts: { stdin?: string | Buffer | NodeJS.ReadableStream; env?: Record<string, string> } = {},
  ): Promise<ExecResult> {
    this.requireRunning(name);
    const call: ExecCall = { node: name, cmd, attached: false, ...(opts.env ? { env: opts.env } : {}) };
    if (opts.stdin !== undefined) call.stdin = await readAll(opts.stdin);
    this.execs.push(call);
    return { exitCode: 0, stdout: "", stderr: "", ...((await this.onExec(call)) ?? {}) };
  }

  async execAttached(name: string, cmd: string[], io: AttachedIO): Promise<number> {
    this.requireRunning(name);
    const call: ExecCall = { node: name, cmd, attached: true, ...(io.env ? { env: io.env } : {}) };
    this.execs.push(call);
    const r = { exitCode: 0, stdout: "", stderr: "", ...((await this.onExec(call)) ?? {}) };
    io.stdout.write(r.stdout);
    io.stderr.write(r.stderr);
    return r.exitCode;
  }

  /** Like the engine, this works on a stopped node too. */
  async copyFiles(name: string, files: FileToCopy[]): Promise<void> {
    const node = this.require(name);
    for (const f of files) node.files.set(f.path, { content: Buffer.from(f.content), mode: f.mode ?? 0o644 });
  }

  async copyFileIn(name: string, hostFile: string, nodePath: string): Promise<void> {
    const node = this.require(name);
    node.files.set(nodePath, { content: await fs.readFile(hostFile), mode: 0o644 });
  }

  /** A tar of the files under `dir`, named from the folder's own name on, as the engine's archive names them. */
  async readArchive(name: string, dir: string): Promise<NodeJS.ReadableStream> {
    const node = this.require(name);
    const parent = path.posix.dirname(dir);
    const inside = [...node.files].filter(([p]) => p === dir || p.startsWith(`${dir}/`));
    if (!inside.length) throw new Error(`Could not find the file ${dir} in container ${name}`);
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "fake-archive-"));
    for (const [p, f] of inside) {
      const local = path.join(root, path.posix.relative(parent, p));
      await fs.mkdir(path.dirname(local), { recursive: true });
      await fs.writeFile(local, f.content, { mode: f.mode });
    }
    const stream = tar.c({ cwd: root, portable: true }, [path.posix.basename(dir)]);
    stream.on("end", () => void fs.rm(root, { recursive: true, force: true }));
    return stream as unknown as NodeJS.ReadableStream;
  }

  /** A file copied into a node, as text; undefined when there is none at that path. */
  readFile(node: string, file: string): string | undefined {
    return this.nodes.get(node)?.files.get(file)?.content.toString("utf8");
  }

  /** A node's files (path, content, mode), sorted by path. */
  files(node: string): Array<[string, NodeFile]> {
    return [...(this.nodes.get(node)?.files ?? [])].sort(([a], [b]) => a.localeCompare(b));
  }

  private infoOf(node: FakeNode): NodeInfo {
    const { spec, state } = node;
    return {
      name: spec.name,
      cluster: spec.cluster,
      role: spec.role,
      state,
      ip: state === "stopped" ? "" : node.ip,
      image: spec.image,
      ports: spec.ports.map((p) => ({ ...p, hostPort: p.hostPort || (node.chosenPorts.get(p) ?? 0) })),
    };
  }

  /** A fixed host port another running node publishes makes the start fail, as the engine's allocator does. */
  private checkPorts(node: FakeNode): void {
    for (const p of node.spec.ports) {
      if (!p.hostPort) continue;
      const holder = [...this.nodes.values()].find(
        (n) =>
          n !== node &&
          n.state !== "stopped" &&
          this.infoOf(n).ports.some((q) => q.hostPort === p.hostPort && q.listenAddress === p.listenAddress),
      );
      if (holder) {
        throw new UserError(`Cannot start node ${node.spec.name}: ${p.listenAddress}:${p.hostPort} is already in use on this host.`);
      }
    }
  }

  private publish(node: FakeNode): void {
    for (const p of node.spec.ports) if (!p.hostPort) node.chosenPorts.set(p, this.nextPort++);
  }

  private freeAddress(network: ClusterNetwork, cluster: string): string {
    const prefix = network.subnet.replace(/0\.0\/16$/, "0.");
    for (let host = 2; ; host++) {
      const ip = `${prefix}${host}`;
      if (!this.addressTaken(cluster, ip)) return ip;
    }
  }

  private addressTaken(cluster: string, ip: string): boolean {
    return [...this.nodes.values()].some((n) => n.spec.cluster === cluster && n.ip === ip);
  }

  private require(name: string): FakeNode {
    const node = this.nodes.get(name);
    if (!node) throw new UserError(`There is no kubeyard node named ${name}.`);
    return node;
  }

  private requireRunning(name: string): FakeNode {
    const node = this.require(name);
    if (node.state !== "running") throw new UserError(`Node ${name} is not running.`);
    return node;
  }
}

async function readAll(input: string | Buffer | NodeJS.ReadableStream): Promise<string> {
  if (typeof input === "string") return input;
  if (Buffer.isBuffer(input)) return input.toString("utf8");
  const chunks: Buffer[] = [];
  for await (const c of input as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

/** Services kept in memory: run, listed, joined to clusters by name. */
export class FakeServices implements ServiceStore {
  private readonly running = new Map<string, ServiceInfo & { spec: ServiceSpec }>();

  async run(spec: ServiceSpec): Promise<void> {
    this.running.set(spec.name, { name: spec.name, state: "running", labels: spec.labels, clusters: [], spec });
  }
  async remove(name: string): Promise<void> {
    this.running.delete(name);
  }
  async list(): Promise<(ServiceInfo & { spec: ServiceSpec })[]> {
    return [...this.running.values()];
  }
  async join(name: string, cluster: string): Promise<void> {
    const svc = this.running.get(name);
    if (!svc) throw new Error(`no service ${name}`);
    if (!svc.clusters.includes(cluster)) svc.clusters.push(cluster);
  }
}
