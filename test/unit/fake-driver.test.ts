import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar";
import { afterAll, describe, expect, it } from "vitest";
import { ArtifactCache } from "../../src/artifacts/cache.js";
import { cachedImageArchive } from "../../src/artifacts/image-archive.js";
import { loadImages } from "../../src/day2/image-load.js";
import type { NodeSpec, PortMapping } from "../../src/drivers/types.js";
import { FakeDriver } from "../helpers/fake-driver.js";

const IMAGE = "kubeyard/node:v1.37.1";
const tmp = mkdtempSync(path.join(os.tmpdir(), "fake-driver-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const api: PortMapping = { containerPort: 6443, hostPort: 6443, listenAddress: "127.0.0.1", protocol: "TCP" };
const anyPort: PortMapping = { containerPort: 80, hostPort: 0, listenAddress: "127.0.0.1", protocol: "TCP" };

function spec(name: string, extra: Partial<NodeSpec> = {}): NodeSpec {
  return { cluster: "c1", name, role: "control-plane", image: IMAGE, ports: [], mounts: [], ...extra };
}

function driverWithImage(): FakeDriver {
  const d = new FakeDriver();
  d.images.add(IMAGE);
  return d;
}

async function entriesOf(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const parser = new tar.Parser({
    onReadEntry: (e) => {
      const chunks: Buffer[] = [];
      e.on("data", (c: Buffer) => chunks.push(c));
      e.on("end", () => out.set(e.path, Buffer.concat(chunks).toString("utf8")));
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on("end", resolve);
    parser.on("error", reject);
    stream.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return out;
}

describe("the fake driver's nodes", () => {
  it("are listed after creation, and a stopped one shows its state and no address", async () => {
    const d = driverWithImage();
    const created = await d.createNode(spec("c1-control-plane", { ports: [api, anyPort] }));
    await d.createNode(spec("c1-worker", { role: "worker" }));
    await d.createNode(spec("other-control-plane", { cluster: "other" }));
    expect(created).toMatchObject({ state: "running", cluster: "c1", role: "control-plane", image: IMAGE });
    expect(created.ip).toMatch(/^172\.18\.0\.\d+$/);
    expect(created.ports.find((p) => p.containerPort === 80)!.hostPort).toBeGreaterThan(0);
    expect((await d.listNodes("c1")).map((n) => n.name)).toEqual(["c1-control-plane", "c1-worker"]);
    expect(await d.listNodes()).toHaveLength(3);

    await d.stopNode("c1-worker");
    const stopped = await d.inspectNode("c1-worker");
    expect(stopped).toMatchObject({ state: "stopped", ip: "" });
    expect((await d.startNode("c1-worker")).state).toBe("running");
    await d.pauseNode("c1-control-plane");
    expect((await d.inspectNode("c1-control-plane"))!.state).toBe("paused");
  });

  it("keep a fixed address, and two nodes of a cluster never share one", async () => {
    const d = driverWithImage();
    const a = await d.createNode(spec("a", { ip: "172.18.0.10" }));
    const b = await d.createNode(spec("b"));
    expect(a.ip).toBe("172.18.0.10");
    expect(b.ip).not.toBe(a.ip);
    await expect(d.createNode(spec("c", { ip: "172.18.0.10" }))).rejects.toThrow(/already taken/);
  });

  it("are refused without their image, under a taken name, or on a host port another node holds", async () => {
    const d = new FakeDriver();
    await expect(d.createNode(spec("n"))).rejects.toThrow(/not in the container engine/);
    d.images.add(IMAGE);
    await d.createNode(spec("n", { ports: [api] }));
    await expect(d.createNode(spec("n"))).rejects.toThrow(/already exists/);
    await expect(d.createNode(spec("m", { ports: [api] }))).rejects.toThrow(/127\.0\.0\.1:6443 is already in use/);
  });

  it("removing an absent node is not an error; a removed node is gone", async () => {
    const d = driverWithImage();
    await expect(d.removeNode("nowhere")).resolves.toBeUndefined();
    await d.createNode(spec("n"));
    await d.removeNode("n");
    expect(await d.inspectNode("n")).toBeUndefined();
    await expect(d.startNode("n")).rejects.toThrow(/no kubeyard node named n/);
  });
});

describe("the fake driver's networks", () => {
  it("ensureNetwork returns the same network twice, another cluster gets another subnet", async () => {
    const d = new FakeDriver();
    const first = await d.ensureNetwork("c1");
    expect(await d.ensureNetwork("c1")).toEqual(first);
    const other = await d.ensureNetwork("c2", { avoid: [first.subnet, "172.19.0.0/16"] });
    expect(other.subnet).not.toBe(first.subnet);
    expect(other.subnet).not.toBe("172.19.0.0/16");
    expect(other).toMatchObject({ name: "kubeyard-c2", gateway: other.subnet.replace("0/16", "1") });
  });

  it("cannot be removed while nodes are attached; an absent one is removed without error", async () => {
    const d = driverWithImage();
    await d.createNode(spec("n"));
    await expect(d.removeNetwork("c1")).rejects.toThrow(/still has containers attached/);
    await d.removeNode("n");
    await d.removeNetwork("c1");
    await d.removeNetwork("c1");
    expect(d.network("c1")).toBeUndefined();
  });
});

describe("commands and files in the fake driver's nodes", () => {
  it("records every command, answers exit 0 with no output unless a handler says otherwise", async () => {
    const d = driverWithImage();
    await d.createNode(spec("n"));
    expect(await d.exec("n", ["true"])).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    d.onExec = (call) => (call.cmd[0] === "cat" ? { stdout: call.stdin } : { exitCode: 3, stderr: "no" });
    expect(await d.exec("n", ["cat"], { stdin: Readable.from([Buffer.from("ab"), Buffer.from("c")]) })).toMatchObject({ stdout: "abc" });
    expect(await d.exec("n", ["false"], { env: { A: "1" } })).toEqual({ exitCode: 3, stdout: "", stderr: "no" });
    expect(d.execs.map((e) => e.cmd[0])).toEqual(["true", "cat", "false"]);
    expect(d.execs[2]).toMatchObject({ node: "n", env: { A: "1" }, attached: false });
  });

  it("refuses commands in a node that is not running", async () => {
    const d = driverWithImage();
    await d.createNode(spec("n"));
    await d.stopNode("n");
    await expect(d.exec("n", ["true"])).rejects.toThrow(/not running/);
    await expect(d.exec("absent", ["true"])).rejects.toThrow(/no kubeyard node/);
  });

  it("keeps copied files per node and path, also in a stopped node, and hands a folder back as a tar", async () => {
    const d = driverWithImage();
    await d.createNode(spec("a"));
    await d.createNode(spec("b"));
    await d.stopNode("b");
    await d.copyFiles("a", [
      { path: "/var/log/kubeyard/etcd/current", content: "etcd log\n" },
      { path: "/etc/x", content: "x", mode: 0o600 },
    ]);
    await d.copyFiles("b", [{ path: "/etc/x", content: Buffer.from("other") }]);
    expect(d.readFile("a", "/etc/x")).toBe("x");
    expect(d.readFile("b", "/etc/x")).toBe("other");
    expect(d.files("a").map(([p, f]) => [p, f.mode])).toEqual([
      ["/etc/x", 0o600],
      ["/var/log/kubeyard/etcd/current", 0o644],
    ]);
    expect(await entriesOf(await d.readArchive("a", "/var/log/kubeyard"))).toEqual(
      new Map([
        ["kubeyard/", ""],
        ["kubeyard/etcd/", ""],
        ["kubeyard/etcd/current", "etcd log\n"],
      ]),
    );
    await expect(d.readArchive("a", "/var/log/pods")).rejects.toThrow(/Could not find/);
  });
});

describe("the fake driver's images", () => {
  it("are a set of tags that builds, pulls and commits add to and remove takes from", async () => {
    const d = driverWithImage();
    const context = mkdtempSync(path.join(tmp, "ctx-"));
    await expect(d.images.build(context, "app:1")).rejects.toThrow(/Dockerfile/);
    writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\n");
    await d.images.build(context, "app:1", { labels: { built: "yes" } });
    expect((await d.images.inspect("app:1"))!.labels).toEqual({ built: "yes" });
    d.images.unpullable.add("debian:bookworm-slim");
    await expect(d.images.pull("debian:bookworm-slim")).rejects.toThrow(/pull access denied/);
    await d.images.pull("busybox:1");
    const r = await d.images.commitRun("busybox:1", ["true"], { mounts: [], tag: "stage:done", changes: ["LABEL a=b", "CMD []"] });
    expect(r.exitCode).toBe(0);
    expect((await d.images.inspect("stage:done"))!.labels).toEqual({ a: "b" });
    expect(d.images.tags()).toEqual(["app:1", "busybox:1", IMAGE, "stage:done"].sort());
    await d.images.remove("stage:done");
    expect(await d.images.inspect("stage:done")).toBeUndefined();
    await expect(d.images.remove("stage:done")).rejects.toThrow(/No such image/);
  });

  it("an image a node runs from cannot be removed", async () => {
    const d = driverWithImage();
    await d.createNode(spec("n"));
    await expect(d.images.remove(IMAGE)).rejects.toThrow(/being used/);
  });

  it("archives are shaped like `docker save`, so the image archive cache and image load work on them", async () => {
    const d = driverWithImage();
    d.images.add("myapp:dev");
    const file = await cachedImageArchive(d.images, new ArtifactCache(path.join(tmp, "cache")), "myapp", "myapp:dev");
    const names: string[] = [];
    await tar.t({ file, onReadEntry: (e) => names.push(e.path) });
    expect(names).toEqual(["manifest.json", "config.json"]);
    await expect(d.images.archive(["absent:1"])).rejects.toThrow(/absent:1/);

    await d.createNode(spec("c1-control-plane"));
    await d.createNode(spec("c1-worker", { role: "worker" }));
    const loaded = await loadImages(d, "c1", { images: ["myapp:dev"], archives: [] });
    expect(loaded.nodes).toEqual(["c1-control-plane", "c1-worker"]);
    // The nodes load in parallel: in either order.
    const imports = d.execs.filter((e) => e.cmd.includes("import"));
    expect(imports.map((e) => e.node).sort()).toEqual(["c1-control-plane", "c1-worker"]);
    const spooled = imports.find((e) => e.node === "c1-control-plane")!.cmd.at(-1)!;
    expect(d.readFile("c1-control-plane", spooled)).toBeDefined();
  });
});
