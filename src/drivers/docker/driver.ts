import type Docker from "dockerode";
import { UserError } from "../../util/errors.js";
import type {
  AttachedIO,
  ClusterNetwork,
  EngineHost,
  ExecResult,
  FileToCopy,
  ImageStore,
  NodeDriver,
  NodeInfo,
  NodeSpec,
  ServiceStore,
} from "../types.js";
import { lastOutput } from "./container-output.js";
import { tarOfFiles, tarOfHostFile } from "./archive.js";
import { connectEngine, requireEngine } from "./engine.js";
import { endpointOf, type EngineEndpoint } from "./endpoint.js";
import { ignoreNotFound, isConflict, isNotFound, isNotModified, messageOf } from "./engine-errors.js";
import { engineInfo, type EngineFacts } from "./engine-info.js";
import { execAttachedIn, execIn } from "./exec.js";
import { DockerImages } from "./images.js";
import { LABEL_CLUSTER, LABEL_NODE, clusterFilter, isKubeyardNode } from "./labels.js";
import { ensureClusterNetwork, freeClusterSubnet, removeClusterNetwork } from "./network.js";
import { nodeContainerOptions, nodeInfoOf, varVolumeName } from "./node-container.js";
import { portInUseError } from "./port-conflict.js";
import { networkBackendError } from "./network-backend.js";
import { DockerServices } from "./services.js";
import { detectPrivilegeMode, nodeHostConfig, type PrivilegeMode } from "./privileges.js";

export interface DockerDriverOptions {
  /** Where the engine answers; by default Docker's (DOCKER_HOST or the local socket). */
  endpoint?: EngineEndpoint;
  /** A client made elsewhere (tests); it replaces one made for `endpoint`, which then only names it in messages. */
  docker?: Docker;
  /** Verbose progress: which privilege mode nodes run with, the engine's cgroup setup. */
  log?: (msg: string) => void;
  /** Replaces the node image's entrypoint. Only for tests that run "nodes" from a plain image. */
  entrypoint?: string[];
}

/** Seconds a node gets to shut down cleanly before the engine kills it. */
const STOP_TIMEOUT = 10;

/** Nodes as containers of a Docker-API engine (Docker, or Podman's compatible socket). */
export class DockerDriver implements NodeDriver {
  readonly name: NodeDriver["name"];
  readonly docker: Docker;
  readonly images: ImageStore;
  readonly services: ServiceStore;
  private readonly endpoint: EngineEndpoint;
  private readonly log: (msg: string) => void;
  private readonly entrypoint?: string[];
  private facts?: Promise<EngineFacts>;
  private modeLogged = false;
  /** In-flight network creations: nodes created in parallel must not each make the cluster a network. */
  private readonly networks = new Map<string, Promise<ClusterNetwork>>();

  constructor(opts: DockerDriverOptions = {}) {
    this.endpoint = opts.endpoint ?? endpointOf("docker");
    this.name = this.endpoint.kind;
    this.docker = opts.docker ?? connectEngine(this.endpoint);
    this.log = opts.log ?? (() => undefined);
    this.entrypoint = opts.entrypoint;
    this.services = new DockerServices(this.docker);
    // Image builds that run a step as a node would (preloading containerd) get a node's privileges,
    // probed the same way but without the log line, which belongs to creating nodes.
    this.images = new DockerImages(this.docker, async (image) => {
      const [mode, facts] = await Promise.all([detectPrivilegeMode(this.docker, image), this.engineFacts()]);
      return nodeHostConfig(mode, facts.cgroupVersion);
    });
  }

  async preflight(): Promise<void> {
    await requireEngine(this.docker, this.endpoint);
    const f = await this.engineFacts();
    this.log(
      `${f.engine} engine${f.rootless ? " (rootless)" : ""} at ${this.endpoint.where}: cgroup v${f.cgroupVersion}, ${f.cgroupDriver} driver` +
        `${f.hasLibModules ? "" : ", no /lib/modules on the host"}`,
    );
  }

  async describeEngine(): Promise<EngineHost> {
    await requireEngine(this.docker, this.endpoint);
    const { engine, version, rootless, cgroupVersion, cgroupDriver } = await this.engineFacts();
    return { engine, address: this.endpoint.where, version, rootless, cgroupVersion, cgroupDriver };
  }

  async freeSubnet(opts: { avoid?: readonly string[] } = {}): Promise<string | undefined> {
    return (await freeClusterSubnet(this.docker, opts.avoid))?.subnet;
  }

  /** The engine's cgroup layout and the like, asked once per driver. */
  engineFacts(): Promise<EngineFacts> {
    this.facts ??= engineInfo(this.docker);
    return this.facts;
  }

  /**
   * `avoid` lists ranges the network must not overlap besides existing networks and host routes:
   * the cluster's pod and service subnets (default: kubeyard's default ones).
   */
  ensureNetwork(cluster: string, opts: { avoid?: readonly string[] } = {}): Promise<ClusterNetwork> {
    // Engines before API 1.44 check for a duplicate name only loosely, so two calls at once for one
    // cluster could both create a network. Across processes, the profile lock prevents that.
    let pending = this.networks.get(cluster);
    if (!pending) {
      pending = ensureClusterNetwork(this.docker, cluster, opts).finally(() => this.networks.delete(cluster));
      this.networks.set(cluster, pending);
    }
    return pending;
  }

  removeNetwork(cluster: string): Promise<void> {
    return removeClusterNetwork(this.docker, cluster);
  }

  /**
   * Creates the node's /var volume and container and starts it. The cluster's network is created if
   * missing (callers that know the cluster's pod and service ranges call ensureNetwork first). On any
   * failure, what this call created is removed again, so a failed start leaves nothing behind.
   */
  async createNode(spec: NodeSpec): Promise<NodeInfo> {
    const existing = await this.inspect(spec.name);
    if (existing) {
      throw new UserError(
        `A container named ${spec.name} already exists${isKubeyardNode(existing.Config.Labels) ? " (a kubeyard node)" : ", not created by kubeyard"}.`,
        isKubeyardNode(existing.Config.Labels)
          ? `Delete the cluster it belongs to (\`kubeyard delete -p ${existing.Config.Labels[LABEL_CLUSTER]}\`) or use another name.`
          : `Remove it (\`docker rm -f ${spec.name}\`) or use another cluster name.`,
      );
    }
    if (!(await this.images.inspect(spec.image))) {
      throw new UserError(`The node image ${spec.image} is not in the container engine.`, "Build it with `kubeyard build node-image`.");
    }
    const [mode, facts] = await Promise.all([this.privilegeMode(spec.image), this.engineFacts()]);
    await this.ensureNetwork(spec.cluster);

    const volume = varVolumeName(spec.name);
    await this.clearStaleVolume(volume, spec.name);
    await this.docker.createVolume({ Name: volume, Labels: { [LABEL_CLUSTER]: spec.cluster, [LABEL_NODE]: spec.name } });
    let container: Docker.Container | undefined;
    try {
      container = await this.docker.createContainer(
        nodeContainerOptions({ spec, privileges: nodeHostConfig(mode, facts.cgroupVersion), facts, entrypoint: this.entrypoint }),
      );
      await container.start();
      return nodeInfoOf(await container.inspect());
    } catch (err) {
      await container?.remove({ force: true, v: true }).catch(() => undefined);
      await this.docker
        .getVolume(volume)
        .remove()
        .catch(() => undefined);
      if (isConflict(err) && !container) {
        throw new UserError(
          `Another process created a container named ${spec.name} at the same time.`,
          "Run one `kubeyard start` per cluster at a time.",
        );
      }
      throw portInUseError(err, spec.name, spec.ports) ?? ipTakenError(err, spec) ?? networkBackendError(err, `node ${spec.name}`) ?? err;
    }
  }

  async startNode(name: string): Promise<NodeInfo> {
    const info = await this.requireNode(name);
    const c = this.docker.getContainer(name);
    try {
      if (info.State.Status === "paused") await c.unpause();
      else await c.start();
    } catch (err) {
      if (!isNotModified(err)) throw portInUseError(err, name, nodeInfoOf(info).ports) ?? err;
    }
    return nodeInfoOf(await c.inspect());
  }

  async stopNode(name: string): Promise<void> {
    await this.requireNode(name);
    await this.docker
      .getContainer(name)
      .stop({ t: STOP_TIMEOUT })
      .catch((err) => {
        if (!isNotModified(err)) throw err;
      });
  }

  async pauseNode(name: string): Promise<void> {
    const info = await this.requireNode(name);
    if (info.State.Status !== "paused") await this.docker.getContainer(name).pause();
  }

  async unpauseNode(name: string): Promise<void> {
    const info = await this.requireNode(name);
    if (info.State.Status === "paused") await this.docker.getContainer(name).unpause();
  }

  /** Removes the node's container and its /var volume; a container of that name kubeyard did not make is refused. */
  async removeNode(name: string): Promise<void> {
    const info = await this.inspect(name);
    if (info && !isKubeyardNode(info.Config.Labels)) {
      throw new UserError(`The container ${name} was not created by kubeyard, so kubeyard will not remove it.`);
    }
    if (info) await ignoreNotFound(this.docker.getContainer(info.Id).remove({ force: true, v: true }));
    // Also when the container is gone already: a run interrupted between the two leaves the volume.
    const volume = varVolumeName(name);
    const vol = await ignoreNotFound(this.docker.getVolume(volume).inspect());
    if (vol?.Labels?.[LABEL_NODE] === name) await ignoreNotFound(this.docker.getVolume(volume).remove());
  }

  async listNodes(cluster?: string): Promise<NodeInfo[]> {
    const found = await this.docker.listContainers({ all: true, filters: { label: [clusterFilter(cluster), LABEL_NODE] } });
    const infos = await Promise.all(found.map((c) => this.inspect(c.Id)));
    return infos
      .filter((i): i is Docker.ContainerInspectInfo => !!i && isKubeyardNode(i.Config.Labels))
      .map(nodeInfoOf)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async inspectNode(name: string): Promise<NodeInfo | undefined> {
    const info = await this.inspect(name);
    return info && isKubeyardNode(info.Config.Labels) ? nodeInfoOf(info) : undefined;
  }

  async exec(
    name: string,
    cmd: string[],
    opts: { stdin?: string | Buffer | NodeJS.ReadableStream; env?: Record<string, string> } = {},
  ): Promise<ExecResult> {
    return this.onNode(name, () => execIn(this.docker.getContainer(name), this.docker.modem, cmd, opts));
  }

  /** Writes the files as root with their modes (0644 unless given); missing parent directories are created. */
  async copyFiles(name: string, files: FileToCopy[]): Promise<void> {
    if (!files.length) return;
    const archive = await tarOfFiles(files);
    await this.onNode(name, () => this.docker.getContainer(name).putArchive(archive, { path: "/" }));
  }

  readArchive(name: string, path: string): Promise<NodeJS.ReadableStream> {
    return this.onNode(name, () => this.docker.getContainer(name).getArchive({ path }));
  }

  /** Streams the file from disk in a one-entry tar (owned by root, 0644); parent directories are created. */
  async copyFileIn(name: string, hostFile: string, nodePath: string): Promise<void> {
    const archive = await tarOfHostFile(hostFile, nodePath);
    await this.onNode(name, () => this.docker.getContainer(name).putArchive(archive, { path: "/" }));
  }

  execAttached(name: string, cmd: string[], io: AttachedIO): Promise<number> {
    return this.onNode(name, () => execAttachedIn(this.docker.getContainer(name), this.docker.modem, cmd, io));
  }

  private async privilegeMode(image: string): Promise<PrivilegeMode> {
    // The probe is cached per engine, so its own log would fire only for whoever asked first.
    const mode = await detectPrivilegeMode(this.docker, image);
    if (!this.modeLogged) {
      this.modeLogged = true;
      this.log(
        mode === "privileged"
          ? "node containers run with --privileged"
          : "the engine refuses --privileged here; node containers run with an explicit capability set instead",
      );
    }
    return mode;
  }

  private inspect(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
    return ignoreNotFound(this.docker.getContainer(idOrName).inspect());
  }

  private async requireNode(name: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.inspect(name);
    if (!info || !isKubeyardNode(info.Config.Labels)) throw noSuchNode(name);
    return info;
  }

  /**
   * A node's /var left behind without its container (a delete that was interrupted) would hand the
   * new node an old cluster's etcd data and certificates: a new node starts from an empty one.
   */
  private async clearStaleVolume(volume: string, node: string): Promise<void> {
    const found = await this.docker
      .getVolume(volume)
      .inspect()
      .catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    if (!found) return;
    if (found.Labels?.[LABEL_NODE] !== node) {
      throw new UserError(
        `A Docker volume named ${volume} exists but was not created by kubeyard for node ${node}.`,
        `Remove it (\`docker volume rm ${volume}\`) or use another cluster name.`,
      );
    }
    this.log(`removing ${volume}, left behind by an earlier node ${node}`);
    await this.docker.getVolume(volume).remove();
  }

  /** Runs an engine call against a node, turning "no such container" and "not running" into what they mean. */
  private async onNode<T>(name: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isNotFound(err) && /no such container/i.test(messageOf(err))) throw noSuchNode(name);
      if (isConflict(err) && /is restarting/i.test(messageOf(err))) {
        // The node's PID 1 exited and the engine is starting it again: what it printed says why.
        const output = await lastOutput(this.docker.getContainer(name), 20).catch(() => "");
        throw new UserError(
          `Node ${name} stopped by itself and the engine is restarting it.${output ? ` Its last output:\n${output}` : ""}`,
          `\`docker logs ${name}\` shows all of it.`,
        );
      }
      if (isConflict(err) && /is not running|is paused/i.test(messageOf(err))) {
        throw new UserError(`Node ${name} is not running.`, "Start it with `kubeyard start`.");
      }
      throw err;
    }
  }
}

function ipTakenError(err: unknown, spec: NodeSpec): UserError | undefined {
  if (!spec.ip || !/address already in use/i.test(messageOf(err))) return undefined;
  return new UserError(
    `Cannot start node ${spec.name}: its address ${spec.ip} is already taken on network kubeyard-${spec.cluster}.`,
    `Something else joined that network (\`docker network inspect kubeyard-${spec.cluster}\` shows what); remove it, or delete and recreate the cluster.`,
  );
}

function noSuchNode(name: string): UserError {
  return new UserError(`There is no kubeyard node named ${name}.`, "`kubeyard status` lists the nodes of a cluster.");
}
