import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import type { BuildOptions, ImageInfo, ImageStore, ImageSummary, Mount, RunResult } from "../types.js";
import { buildContext } from "./build-context.js";
import { lastOutput } from "./container-output.js";
import { isNotFound } from "./engine-errors.js";
import { followProgress } from "./engine.js";
import { networkBackendError } from "./network-backend.js";

/** The images of a Docker-API engine. `nodePrivileges` gives the host config node containers of an image run with. */
export class DockerImages implements ImageStore {
  constructor(
    private readonly docker: Docker,
    private readonly nodePrivileges: (image: string) => Promise<Docker.HostConfig>,
  ) {}

  async inspect(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, labels: info.Config?.Labels ?? {}, size: info.Size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(opts: { reference?: string } = {}): Promise<ImageSummary[]> {
    const found = await this.docker.listImages(opts.reference ? { filters: JSON.stringify({ reference: [opts.reference] }) } : {});
    return found.map((i) => ({ id: i.Id, tags: i.RepoTags ?? [], labels: i.Labels ?? {}, size: i.Size, createdMs: i.Created * 1000 }));
  }

  async build(contextDir: string, tag: string, opts: BuildOptions = {}): Promise<void> {
    const res = await this.docker.buildImage(await buildContext(contextDir, opts.dockerfile), {
      t: tag,
      labels: opts.labels ?? {},
      rm: true,
      forcerm: true,
      ...(opts.dockerfile ? { dockerfile: opts.dockerfile } : {}),
      ...(opts.buildArgs && Object.keys(opts.buildArgs).length ? { buildargs: opts.buildArgs } : {}),
    });
    const lines: string[] = [];
    try {
      await followProgress(this.docker, res, (l) => {
        lines.push(l);
        opts.onLine?.(l);
      });
    } finally {
      if (opts.log) {
        await fs.mkdir(path.dirname(opts.log), { recursive: true });
        await fs.appendFile(opts.log, `\n# docker build ${tag}\n${lines.join("\n")}\n`);
      }
    }
  }

  async pull(ref: string): Promise<void> {
    await followProgress(this.docker, await this.docker.pull(ref));
  }

  async importRootfs(rootfs: string, tag: string, changes: string[] = []): Promise<void> {
    const [repo, t] = splitTag(tag);
    // The system tar keeps device nodes, xattrs and hard links of a debootstrapped tree exactly.
    const child = execa("tar", ["--numeric-owner", "--xattrs", "-C", rootfs, "-c", "."], { buffer: false, stdout: "pipe" });
    const res = await this.docker.importImage(child.stdout!, { repo, tag: t, changes });
    await Promise.all([followProgress(this.docker, res), child]);
  }

  archive(refs: string[]): Promise<NodeJS.ReadableStream> {
    // dockerode types lack getImages (GET /images/get?names=...), which saves several images at once.
    const getImages = (this.docker as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> }).getImages;
    return getImages.call(this.docker, { names: refs });
  }

  async save(refs: string[], file: string): Promise<void> {
    await pipeline(await this.archive(refs), createWriteStream(file));
  }

  async load(file: string): Promise<string[]> {
    const tags: string[] = [];
    await followProgress(this.docker, await this.docker.loadImage(createReadStream(file)), (line) => {
      const m = /^Loaded image: (.+)$/.exec(line);
      if (m) tags.push(m[1]!);
    });
    return tags;
  }

  async remove(ref: string): Promise<void> {
    await this.docker.getImage(ref).remove();
  }

  async removeStoppedRuns(olderThanMs: number): Promise<string[]> {
    const listed = await this.docker.listContainers({
      all: true,
      filters: { label: [LABEL_BUILD_RUN], status: ["created", "exited", "dead"] },
    });
    const stopped = listed.filter((c) => c.Created * 1000 < Date.now() - olderThanMs);
    await Promise.all(stopped.map((c) => this.docker.getContainer(c.Id).remove({ force: true })));
    return stopped.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ""));
  }

  async commitRun(image: string, cmd: string[], opts: { mounts: Mount[]; tag: string; changes: string[] }): Promise<RunResult> {
    const host = await this.nodePrivileges(image);
    const binds = opts.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ":ro" : ""}`);
    const c = await this.docker.createContainer({
      Image: image,
      Entrypoint: cmd,
      Cmd: [],
      Labels: { [LABEL_BUILD_RUN]: opts.tag },
      HostConfig: { ...host, Binds: [...(host.Binds ?? []), ...binds] },
    });
    try {
      await c.start().catch((err: unknown) => {
        throw networkBackendError(err, `a build step of ${opts.tag}`) ?? err;
      });
      const res = (await c.wait()) as { StatusCode: number };
      if (res.StatusCode !== 0) {
        return { exitCode: res.StatusCode, output: await lastOutput(c, 200) };
      }
      const [repo, tag] = splitTag(opts.tag);
      await c.commit({ repo, tag, changes: opts.changes });
      return { exitCode: 0, output: "" };
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
    }
  }
}

/** Marks a commitRun's container; its value is the tag the run makes. */
const LABEL_BUILD_RUN = "dev.kubeyard.build";

/** "repo:tag" into its parts; the last colon is the tag's, so a registry's port stays with the repository. */
function splitTag(ref: string): [string, string] {
  const i = ref.lastIndexOf(":");
  return i > ref.lastIndexOf("/") ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, "latest"];
}
