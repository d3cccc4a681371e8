/**
 * What the rest of kubeyard knows of "a node": a container somewhere that can be created, started,
 * stopped, removed, exec'd into and given files. Nothing outside src/drivers knows which engine runs it.
 */

export type NodeRole = "control-plane" | "worker" | "load-balancer";

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  /** Host address the port is published on; 127.0.0.1 unless the user asked otherwise. */
  listenAddress: string;
  protocol: "TCP" | "UDP" | "SCTP";
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface NodeSpec {
  cluster: string;
  name: string;
  role: NodeRole;
  image: string;
  ports: PortMapping[];
  mounts: Mount[];
  /** A fixed address on the cluster network; certificates name it, so it must survive restarts. */
  ip?: string;
  /** Extra labels on the container (the driver adds cluster and role labels itself). */
  labels?: Record<string, string>;
  /** The container's environment, fixed at creation (the node image reads its settings from it). */
  env?: Record<string, string>;
}

export interface ClusterNetwork {
  name: string;
  subnet: string;
  gateway: string;
}

export type NodeState = "running" | "paused" | "stopped" | "missing";

export interface NodeInfo {
  name: string;
  cluster: string;
  role: NodeRole;
  state: NodeState;
  /** The node's address on the cluster network (empty while stopped). */
  ip: string;
  image: string;
  ports: PortMapping[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface FileToCopy {
  /** Absolute path inside the node. */
  path: string;
  content: string | Buffer;
  mode?: number;
}

/** An image in the engine, as inspect tells it. */
export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  size: number;
}

/** An image of a listing: one entry per image, with every tag it has. */
export interface ImageSummary extends ImageInfo {
  tags: string[];
  /** When the engine made it, in ms since the epoch. */
  createdMs: number;
}

/** What a run in a throwaway container ended with (see ImageStore.commitRun). */
export interface RunResult {
  exitCode: number;
  /** Its stdout and stderr, interleaved. */
  output: string;
}

export interface BuildOptions {
  labels?: Record<string, string>;
  log?: string;
  /** Relative to the context, with "/" separators. */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  onLine?: (text: string) => void;
}

/**
 * The engine's images: the ones nodes run from and the ones loaded into them. Code that only makes or
 * reads images (the artifacts) is handed this part of a driver, `driver.images`.
 */
export interface ImageStore {
  inspect(ref: string): Promise<ImageInfo | undefined>;
  /** All images, or those of one repository (`reference`, as in `docker images REPO`). */
  list(opts?: { reference?: string }): Promise<ImageSummary[]>;
  /**
   * Builds `contextDir` into `tag` from its Dockerfile (or `dockerfile`, a path inside `contextDir`);
   * `log`, a file, gets the builder's output appended, and `onLine` hears each line as it comes.
   * Fails with the builder's error, and then tags nothing.
   */
  build(contextDir: string, tag: string, opts?: BuildOptions): Promise<void>;
  pull(ref: string): Promise<void>;
  /** Makes `tag` from a root filesystem directory, the way `tar -C dir -c . | docker import -` does. */
  importRootfs(rootfs: string, tag: string, changes?: string[]): Promise<void>;
  /** A `docker save` archive of the images (one archive, layers shared) as a stream, read while the engine writes it. */
  archive(refs: string[]): Promise<NodeJS.ReadableStream>;
  /** `archive` written to a file. */
  save(refs: string[], file: string): Promise<void>;
  /** Loads a `save` archive into the engine (`docker load`); the tags it held. */
  load(file: string): Promise<string[]>;
  /** Untags `ref` (an image ID: removes the image); fails while a container uses it. */
  remove(ref: string): Promise<void>;
  /**
   * Runs `cmd` in a throwaway container of `image`, with a node's privileges and the given mounts, and
   * when it exits 0 commits that container as `tag` with Dockerfile instructions `changes`.
   */
  commitRun(image: string, cmd: string[], opts: { mounts: Mount[]; tag: string; changes: string[] }): Promise<RunResult>;
  /**
   * Removes the stopped containers of commitRuns made over `olderThanMs` ago: a killed build's (a live
   * one removes its own at once); their names.
   */
  removeStoppedRuns(olderThanMs: number): Promise<string[]>;
}

/** The engine behind a driver, as far as whether nodes can run on it depends on it. */
export interface EngineHost {
  engine: "docker" | "podman";
  /** Where it answers, as the user would write it (unix:///run/user/1000/docker.sock). */
  address: string;
  version: string;
  /** Runs as an ordinary user: nodes get only the cgroup controllers delegated to that user. */
  rootless: boolean;
  cgroupVersion: 1 | 2;
  cgroupDriver: "cgroupfs" | "systemd";
}

/**
 * A container kubeyard runs outside any cluster and keeps across `delete` (the shared registry mirror).
 * It starts on the engine's default network, for the internet, and joins cluster networks on request.
 */
export interface ServiceSpec {
  name: string;
  image: string;
  env: Record<string, string>;
  /** A named volume mounted at `path`: kept when the container is replaced or removed. */
  volume: { name: string; path: string };
  /** Extra labels (the driver adds the one that marks a kubeyard service). */
  labels: Record<string, string>;
}

export interface ServiceInfo {
  name: string;
  state: NodeState;
  labels: Record<string, string>;
  /** The clusters whose networks it has joined. */
  clusters: string[];
}

/** kubeyard's services: created, listed and removed through their label, joined to cluster networks. */
export interface ServiceStore {
  /** Creates and starts the service; one of that name kubeyard made before is replaced (its volume kept). */
  run(spec: ServiceSpec): Promise<void>;
  /** Removes the container, and its volume when asked; absent is fine. */
  remove(name: string, opts?: { volume?: string }): Promise<void>;
  list(): Promise<ServiceInfo[]>;
  /** Joins the cluster's network, where nodes resolve the service by its name; joining twice is fine. */
  join(name: string, cluster: string): Promise<void>;
}

export interface NodeDriver {
  /** The engine whose socket this driver talks to, as `--driver` names it; a cluster is recorded with it. */
  readonly name: EngineHost["engine"];
  readonly images: ImageStore;
  readonly services: ServiceStore;
  /** Fails with a clear error, before anything is created, when the engine cannot be used. */
  preflight(): Promise<void>;
  /** What the engine is and how it lays out cgroups; fails as preflight does when the engine does not answer. */
  describeEngine(): Promise<EngineHost>;
  /**
   * The subnet ensureNetwork would give a new cluster network now (undefined when none is free),
   * without creating anything; `avoid` as for ensureNetwork.
   */
  freeSubnet(opts?: { avoid?: readonly string[] }): Promise<string | undefined>;
  /**
   * Creates the cluster's network on a free private subnet (or returns the existing one). `avoid`:
   * ranges it must not overlap besides what the host already uses (the cluster's pod and service subnets).
   */
  ensureNetwork(cluster: string, opts?: { avoid?: readonly string[] }): Promise<ClusterNetwork>;
  /** Removes the cluster's network, after taking kubeyard's services off it. */
  removeNetwork(cluster: string): Promise<void>;
  /** Creates and starts a node container; returns its info once it runs. */
  createNode(spec: NodeSpec): Promise<NodeInfo>;
  startNode(name: string): Promise<NodeInfo>;
  stopNode(name: string): Promise<void>;
  pauseNode(name: string): Promise<void>;
  unpauseNode(name: string): Promise<void>;
  /** Removes the container and its volumes. Absent nodes are not an error. */
  removeNode(name: string): Promise<void>;
  listNodes(cluster?: string): Promise<NodeInfo[]>;
  inspectNode(name: string): Promise<NodeInfo | undefined>;
  /** `stdin` may be a stream, which the command reads as it arrives. */
  exec(
    name: string,
    cmd: string[],
    opts?: { stdin?: string | Buffer | NodeJS.ReadableStream; env?: Record<string, string> },
  ): Promise<ExecResult>;
  copyFiles(name: string, files: FileToCopy[]): Promise<void>;
  /** Streams a tar of `path` inside the node (for `kubeyard logs`). */
  readArchive(name: string, path: string): Promise<NodeJS.ReadableStream>;
  /**
   * Copies one host file into the node at `nodePath` (an absolute path outside /run and /tmp),
   * streamed from disk, so large files (image archives) are never held in memory.
   */
  copyFileIn(name: string, hostFile: string, nodePath: string): Promise<void>;
  /**
   * Runs `cmd` in the node attached to the given streams (a terminal when `tty`), the way
   * `docker exec -i[t]` does; resolves with its exit code.
   */
  execAttached(name: string, cmd: string[], io: AttachedIO): Promise<number>;
}

export interface AttachedIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  tty: boolean;
  env?: Record<string, string>;
  /** The terminal's size now and whenever it changes (only with `tty`). */
  size?: () => { rows: number; columns: number };
  onResize?: (listener: () => void) => () => void;
}
