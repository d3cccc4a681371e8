import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import net from "node:net";
import { PassThrough, Readable } from "node:stream";
import Dockerode from "dockerode";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseImageTag } from "../../src/artifacts/base-image.js";
import { DEFAULT_KUBERNETES_VERSION } from "../../src/versions/versions.js";
import { cidrsOverlap, formatIP, nthAddress } from "../../src/config/ip.js";
import { DockerDriver } from "../../src/drivers/docker/driver.js";
import { EngineUnreachableError } from "../../src/drivers/docker/engine.js";
import { hostRoutes } from "../../src/drivers/docker/host-routes.js";
import { LABEL_CLUSTER } from "../../src/drivers/docker/labels.js";
import { looseCIDR } from "../../src/drivers/docker/subnet.js";
import type { NodeInfo, NodeSpec } from "../../src/drivers/types.js";
import { UserError } from "../../src/util/errors.js";
import { eventually } from "../helpers/poll.js";

/**
 * The Docker driver against the real engine. "Nodes" run a plain image whose BusyBox serves HTTP on
 * 8080 instead of the node image's init, so the test needs no Kubernetes, only an image with
 * /bin/busybox: KUBEYARD_TEST_IMAGE, else the node base image or the node image (the system tests'
 * global setup builds both).
 */

const BUSYBOX = "/bin/busybox";
const run = `test-${randomBytes(4).toString("hex")}`;
const cluster = run;
const logs: string[] = [];
const driver = new DockerDriver({
  log: (m) => logs.push(m),
  entrypoint: [
    BUSYBOX,
    "sh",
    "-c",
    // As PID 1 the shell ignores SIGTERM unless told otherwise; a node stops when asked.
    `trap 'exit 0' TERM; ${BUSYBOX} mkdir -p /srv && ${BUSYBOX} hostname > /srv/index.html && ${BUSYBOX} httpd -f -p 8080 -h /srv & wait`,
  ],
});
const docker = driver.docker;
let image = "";

async function testImage(): Promise<string> {
  const candidates = [process.env.KUBEYARD_TEST_IMAGE, await baseImageTag(), `kubeyard/node:v${DEFAULT_KUBERNETES_VERSION}`];
  for (const c of candidates) if (c && (await driver.images.inspect(c))) return c;
  throw new Error(`none of ${candidates.filter(Boolean).join(", ")} is in the engine: set KUBEYARD_TEST_IMAGE to an image with ${BUSYBOX}`);
}

function spec(name: string, extra: Partial<NodeSpec> = {}): NodeSpec {
  return { cluster, name: `${run}-${name}`, role: "worker", image, ports: [], mounts: [], ...extra };
}

/** Everything the engine holds that carries one of this run's cluster labels. */
async function leftovers() {
  const mine = (labels?: Record<string, string> | null) => !!labels?.[LABEL_CLUSTER]?.startsWith(run);
  const [containers, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [LABEL_CLUSTER] } }),
    docker.listVolumes({ filters: { label: [LABEL_CLUSTER] } }),
    docker.listNetworks({ filters: { label: [LABEL_CLUSTER] } }),
  ]);
  return {
    containers: containers.filter((c) => mine(c.Labels)).map((c) => c.Id),
    volumes: (volumes.Volumes ?? []).filter((v) => mine(v.Labels as Record<string, string>)).map((v) => v.Name),
    networks: (networks as Array<{ Id: string; Labels?: Record<string, string> }>).filter((n) => mine(n.Labels)).map((n) => n.Id),
  };
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
  });
}

/** The in-node server starts right after the container does; poll until it answers. */
function httpGetWhenUp(host: string, port: number): Promise<string> {
  return eventually(`the in-node server at ${host}:${port} to answer`, () => httpGet(host, port), { timeoutMs: 10_000, intervalMs: 100 });
}

function inSubnet(ip: string, subnet: string): boolean {
  return cidrsOverlap(looseCIDR(ip)!, looseCIDR(subnet)!);
}

describe("DockerDriver on the real engine", () => {
  let subnet = "";
  let cp: NodeInfo;
  let worker: NodeInfo;
  let apiPort = 0;

  beforeAll(async () => {
    await driver.preflight();
    image = await testImage();
  });

  afterAll(async () => {
    const left = await leftovers();
    await Promise.all(
      left.containers.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    await Promise.all(
      left.volumes.map((v) =>
        docker
          .getVolume(v)
          .remove()
          .catch(() => undefined),
      ),
    );
    await Promise.all(
      left.networks.map((id) =>
        docker
          .getNetwork(id)
          .remove()
          .catch(() => undefined),
      ),
    );
  });

  it("reports the engine's cgroup setup", async () => {
    const facts = await driver.engineFacts();
    const info = (await docker.info()) as { CgroupVersion?: string; CgroupDriver?: string };
    expect(facts.engine).toBe("docker");
    expect(String(facts.cgroupVersion)).toBe(info.CgroupVersion ?? "1");
    expect(facts.cgroupDriver).toBe(info.CgroupDriver);
  });

  it("creates a labelled bridge network on a subnet no other network or host route overlaps", async () => {
    // Read first: once the network exists the host routes its subnet to the new bridge.
    const routes = await hostRoutes();
    const net1 = await driver.ensureNetwork(cluster);
    subnet = net1.subnet;
    expect(net1.name).toBe(`kubeyard-${cluster}`);
    expect(inSubnet(net1.gateway, subnet)).toBe(true);

    const all = (await docker.listNetworks()) as Array<{ Name: string; IPAM?: { Config?: Array<{ Subnet?: string }> } }>;
    const others = all
      .filter((n) => n.Name !== net1.name)
      .flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet))
      .filter((s): s is string => !!s && looseCIDR(s)?.family === 4);
    expect(others.length).toBeGreaterThan(0);
    for (const other of [...others, ...routes]) {
      expect(cidrsOverlap(looseCIDR(other)!, looseCIDR(subnet)!), `${subnet} overlaps ${other}`).toBe(false);
    }

    const inspected = await docker.getNetwork(net1.name).inspect();
    expect(inspected.Driver).toBe("bridge");
    expect(inspected.Labels[LABEL_CLUSTER]).toBe(cluster);
    expect(inspected.Options["com.docker.network.bridge.enable_ip_masquerade"]).toBe("true");

    expect(await driver.ensureNetwork(cluster)).toEqual(net1);
  });

  it("gives clusters created at the same moment one network each, on distinct subnets", async () => {
    const names = [`${run}-a`, `${run}-b`, `${run}-c`];
    // Two calls per cluster, all at once: the same cluster must end up with one network.
    const made = await Promise.all([...names, ...names].map((c) => driver.ensureNetwork(c)));
    const subnets = new Set(made.map((n) => n.subnet));
    expect(subnets.size).toBe(3);
    const list = [...subnets].map((s) => looseCIDR(s)!);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) expect(cidrsOverlap(list[i]!, list[j]!)).toBe(false);
      expect(cidrsOverlap(list[i]!, looseCIDR(subnet)!)).toBe(false);
    }
    for (const c of names) {
      const same = ((await docker.listNetworks()) as Array<{ Name: string }>).filter((n) => n.Name === `kubeyard-${c}`);
      expect(same).toHaveLength(1);
      await driver.removeNetwork(c);
    }
    expect((await leftovers()).networks).toHaveLength(1);
  });

  it("creates and starts nodes on the cluster network, with their ports on 127.0.0.1 only", async () => {
    apiPort = await freePort();
    const fixedIp = formatIP(nthAddress(looseCIDR(subnet)!, 10));
    [cp, worker] = await Promise.all([
      driver.createNode(
        spec("cp", {
          role: "control-plane",
          ports: [{ containerPort: 8080, hostPort: apiPort, listenAddress: "127.0.0.1", protocol: "TCP" }],
          labels: { "dev.kubeyard.extra": "yes" },
        }),
      ),
      driver.createNode(spec("w1", { ip: fixedIp })),
    ]);
    expect(logs.some((l) => /node containers run with/.test(l))).toBe(true);
    for (const n of [cp, worker]) {
      expect(n.state).toBe("running");
      expect(n.cluster).toBe(cluster);
      expect(n.image).toBe(image);
      expect(inSubnet(n.ip, subnet)).toBe(true);
    }
    expect(worker.ip).toBe(fixedIp);
    expect(cp.role).toBe("control-plane");
    expect(cp.ports).toEqual([{ containerPort: 8080, hostPort: apiPort, listenAddress: "127.0.0.1", protocol: "TCP" }]);

    const c = await docker.getContainer(cp.name).inspect();
    expect(c.Config.Hostname).toBe(cp.name);
    expect(c.Config.Labels).toMatchObject({
      "dev.kubeyard.role": "control-plane",
      "dev.kubeyard.node": cp.name,
      "dev.kubeyard.extra": "yes",
    });
    expect(c.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    expect(c.HostConfig.Init).toBe(false);
    expect(c.NetworkSettings.Ports["8080/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(apiPort) }]);
    expect(c.Mounts.find((m) => m.Destination === "/var")).toMatchObject({ Type: "volume", Name: `${cp.name}-var` });
    const vol = await docker.getVolume(`${cp.name}-var`).inspect();
    expect(vol.Labels?.[LABEL_CLUSTER]).toBe(cluster);

    const mounts = await driver.exec(cp.name, [BUSYBOX, "cat", "/proc/mounts"]);
    expect(mounts.stdout).toMatch(/^tmpfs \/run tmpfs /m);
    expect(mounts.stdout).toMatch(/^tmpfs \/tmp tmpfs /m);

    expect((await driver.listNodes(cluster)).map((n) => n.name)).toEqual([cp.name, worker.name].sort());
    expect(await driver.inspectNode(worker.name)).toEqual(worker);
    expect(await driver.inspectNode(`${run}-nope`)).toBeUndefined();
  });

  it("makes nodes reachable from the host by IP and through the published port, and from each other by name", async () => {
    expect((await httpGetWhenUp(cp.ip, 8080)).trim()).toBe(cp.name);
    expect((await httpGetWhenUp(worker.ip, 8080)).trim()).toBe(worker.name);
    expect((await httpGetWhenUp("127.0.0.1", apiPort)).trim()).toBe(cp.name);
    const fromWorker = await driver.exec(worker.name, [BUSYBOX, "wget", "-q", "-O", "-", `http://${cp.name}:8080/`]);
    expect(fromWorker).toMatchObject({ exitCode: 0, stdout: `${cp.name}\n` });
  });

  it("execs with stdin, separate stdout and stderr, the exit code and environment", async () => {
    const big = `${"kubeyard ".repeat(40_000)}\nlast line`;
    const echoed = await driver.exec(cp.name, [BUSYBOX, "cat"], { stdin: big });
    expect(echoed.exitCode).toBe(0);
    expect(echoed.stdout).toBe(big);
    expect(echoed.stderr).toBe("");

    const mixed = await driver.exec(cp.name, [BUSYBOX, "sh", "-c", 'echo "out $GREETING"; echo err >&2; exit 3'], {
      env: { GREETING: "hi there" },
    });
    expect(mixed).toEqual({ exitCode: 3, stdout: "out hi there\n", stderr: "err\n" });

    // A command that ignores its input still finishes.
    const ignoring = await driver.exec(cp.name, [BUSYBOX, "true"], { stdin: Buffer.alloc(1 << 20) });
    expect(ignoring.exitCode).toBe(0);
  });

  it("copies files in as root with their modes, creating parent directories", async () => {
    const before = await driver.exec(cp.name, [BUSYBOX, "stat", "-c", "%a %u:%g", "/etc"]);
    await driver.copyFiles(cp.name, [
      { path: `/etc/${run}/pki/ca.key`, content: "secret key\n", mode: 0o600 },
      { path: "/var/lib/kubeyard-test/config.yaml", content: Buffer.from("a: 1\n") },
    ]);
    const st = await driver.exec(cp.name, [
      BUSYBOX,
      "stat",
      "-c",
      "%n %a %u:%g",
      `/etc/${run}/pki/ca.key`,
      `/etc/${run}/pki`,
      "/var/lib/kubeyard-test/config.yaml",
    ]);
    expect(st.stdout.trim().split("\n")).toEqual([
      `/etc/${run}/pki/ca.key 600 0:0`,
      `/etc/${run}/pki 755 0:0`,
      "/var/lib/kubeyard-test/config.yaml 644 0:0",
    ]);
    expect((await driver.exec(cp.name, [BUSYBOX, "cat", `/etc/${run}/pki/ca.key`])).stdout).toBe("secret key\n");
    // Existing directories on the way keep their mode and owner.
    expect(await driver.exec(cp.name, [BUSYBOX, "stat", "-c", "%a %u:%g", "/etc"])).toEqual(before);

    await expect(driver.copyFiles(cp.name, [{ path: "/run/x", content: "" }])).rejects.toThrow(/tmpfs/);
    await expect(driver.copyFiles(cp.name, [{ path: "relative/x", content: "" }])).rejects.toThrow(/absolute/);
  });

  it("reads a path back as a tar stream", async () => {
    const stream = await driver.readArchive(cp.name, "/var/lib/kubeyard-test");
    const seen: Record<string, string> = {};
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        onReadEntry: (e) => {
          let body = "";
          e.on("data", (d: Buffer) => (body += d.toString()));
          e.on("end", () => (seen[e.path] = body));
        },
      });
      parser.on("end", resolve);
      parser.on("error", reject);
      Readable.from(stream as AsyncIterable<Buffer>).pipe(parser);
    });
    expect(seen["kubeyard-test/config.yaml"]).toBe("a: 1\n");
  });

  it("copies a large host file in, streamed, byte for byte", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kubeyard-copy-"));
    try {
      const body = randomBytes(8 * 1024 * 1024 + 7);
      writeFileSync(path.join(dir, "big.tar"), body);
      await driver.copyFileIn(cp.name, path.join(dir, "big.tar"), "/var/lib/kubeyard-test/in/big.tar");
      const r = await driver.exec(cp.name, [BUSYBOX, "sha256sum", "/var/lib/kubeyard-test/in/big.tar"]);
      expect(r.stdout.split(" ")[0]).toBe(createHash("sha256").update(body).digest("hex"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a command attached to streams: input forwarded, output split, exit code returned", async () => {
    let out = "";
    let err = "";
    const stdout = new PassThrough().on("data", (c: Buffer) => (out += c.toString()));
    const stderr = new PassThrough().on("data", (c: Buffer) => (err += c.toString()));
    const code = await driver.execAttached(cp.name, [BUSYBOX, "sh", "-c", "cat; echo to-stderr >&2; exit 9"], {
      stdin: Readable.from([Buffer.from("line one\n"), Buffer.from("line two\n")]),
      stdout,
      stderr,
      tty: false,
    });
    expect({ code, out, err }).toEqual({ code: 9, out: "line one\nline two\n", err: "to-stderr\n" });
    // Input that never ends does not keep a command that does not read it from finishing.
    expect(await driver.execAttached(cp.name, [BUSYBOX, "true"], { stdin: new PassThrough(), stdout, stderr, tty: false })).toBe(0);
  });

  it("refuses a host port in use, naming it, and leaves no half-made node behind", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const name = `${run}-clash`;
    try {
      const err = await driver
        .createNode(spec("clash", { ports: [{ containerPort: 8080, hostPort: taken, listenAddress: "127.0.0.1", protocol: "TCP" }] }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toContain(`127.0.0.1:${taken}`);
      expect((err as UserError).hint).toMatch(/--apiserver-port/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    expect(await driver.inspectNode(name)).toBeUndefined();
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${name}-var`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("gives a node a fresh /var even when an interrupted delete left the old one behind", async () => {
    const first = await driver.createNode(spec("again"));
    await driver.exec(first.name, [BUSYBOX, "sh", "-c", "echo old > /var/marker"]);
    // What an interrupted delete leaves: the container gone, its volume still there.
    await docker.getContainer(first.name).remove({ force: true });
    const second = await driver.createNode(spec("again"));
    const marker = await driver.exec(second.name, [BUSYBOX, "cat", "/var/marker"]);
    expect(marker.exitCode).not.toBe(0);
    await driver.removeNode(second.name);

    // A volume of that name that kubeyard did not make is not for it to reuse or remove.
    const name = `${run}-vol`;
    await docker.createVolume({ Name: `${name}-var`, Labels: { [LABEL_CLUSTER]: cluster } });
    await expect(driver.createNode(spec("vol"))).rejects.toThrow(/not created by kubeyard/);
    await expect(docker.getVolume(`${name}-var`).inspect()).resolves.toMatchObject({ Name: `${name}-var` });
    await docker.getVolume(`${name}-var`).remove();
  });

  it("refuses a static IP another node holds, and leaves no half-made node behind", async () => {
    const name = `${run}-dup`;
    const err = await driver.createNode(spec("dup", { ip: worker.ip })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain(`${worker.ip} is already taken`);
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${name}-var`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("pauses, unpauses, stops and starts a node, keeping /var across restarts", async () => {
    await driver.exec(worker.name, [BUSYBOX, "sh", "-c", "echo kept > /var/persist; echo gone > /tmp/scratch"]);
    await driver.pauseNode(worker.name);
    await driver.pauseNode(worker.name);
    expect((await driver.inspectNode(worker.name))?.state).toBe("paused");
    await expect(driver.exec(worker.name, [BUSYBOX, "true"])).rejects.toThrow(/not running/);
    await driver.unpauseNode(worker.name);
    expect((await driver.inspectNode(worker.name))?.state).toBe("running");

    await driver.stopNode(worker.name);
    await driver.stopNode(worker.name);
    const stopped = await driver.inspectNode(worker.name);
    expect(stopped).toMatchObject({ state: "stopped", ip: "" });
    expect((await driver.listNodes(cluster)).find((n) => n.name === worker.name)?.state).toBe("stopped");

    const started = await driver.startNode(worker.name);
    expect(started.state).toBe("running");
    expect(started.ip).toBe(worker.ip);
    const after = await driver.exec(worker.name, [BUSYBOX, "sh", "-c", "cat /var/persist; ls /tmp"]);
    expect(after.stdout).toBe("kept\n");
  });

  it("names a node whose boot fails and that the engine keeps restarting, with what it printed last", async () => {
    const crashing = new DockerDriver({
      log: () => undefined,
      entrypoint: [BUSYBOX, "sh", "-c", "echo 'boot step failed: no cgroup'; exit 1"],
    });
    const node = spec("crashing");
    try {
      await crashing.createNode(node).catch(() => undefined);
      const err = await eventually(
        "the engine to be restarting the node",
        async () => {
          const e = await crashing.exec(node.name, [BUSYBOX, "true"]).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (!(e instanceof UserError) || !/restarting/.test(e.message)) throw new Error(`not restarting yet: ${String(e)}`);
          return e;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      const [first, ...output] = err.message.split("\n");
      expect(first).toBe(`Node ${node.name} stopped by itself and the engine is restarting it. Its last output:`);
      // Once per boot so far, unframed.
      expect(output.length).toBeGreaterThan(0);
      for (const line of output) expect(line).toBe("boot step failed: no cgroup");
      expect(err.hint).toBe(`\`docker logs ${node.name}\` shows all of it.`);
    } finally {
      await crashing.removeNode(node.name);
    }
  });

  it("will not remove a container it did not create", async () => {
    const name = `${run}-foreign`;
    // Labelled with the cluster only, so that the cleanup finds it; no node label, so not a node.
    const c = await docker.createContainer({ name, Image: image, Entrypoint: [BUSYBOX, "true"], Labels: { [LABEL_CLUSTER]: cluster } });
    await expect(driver.removeNode(name)).rejects.toThrow(/not created by kubeyard/);
    await expect(driver.createNode(spec("foreign"))).rejects.toThrow(/already exists/);
    expect((await c.inspect()).Name).toBe(`/${name}`);
    expect(await driver.inspectNode(name)).toBeUndefined();
    await c.remove({ force: true });
  });

  it("removes nodes with their volumes, then the network, leaving nothing labelled behind", async () => {
    await Promise.all([driver.removeNode(cp.name), driver.removeNode(worker.name)]);
    await driver.removeNode(cp.name);
    expect(await driver.listNodes(cluster)).toEqual([]);
    await driver.removeNetwork(cluster);
    await driver.removeNetwork(cluster);
    expect(await leftovers()).toEqual({ containers: [], volumes: [], networks: [] });
  });
});

describe("DockerDriver's images", () => {
  const made = `kubeyard-test/commit:${run}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "kubeyard-commit-"));
  afterAll(async () => {
    await driver.images.remove(made).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("commit a run that exits 0 with its mounts and labels, and report one that fails without committing", async () => {
    const base = image || (await testImage());
    writeFileSync(path.join(dir, "file"), "hello");
    const sh = (script: string) => [BUSYBOX, "sh", "-c", script];
    const ok = await driver.images.commitRun(base, sh("cp /in/file /made"), {
      mounts: [{ hostPath: path.join(dir, "file"), containerPath: "/in/file", readOnly: true }],
      tag: made,
      changes: ["LABEL dev.kubeyard.test=commit"],
    });
    expect(ok.exitCode).toBe(0);
    expect((await driver.images.inspect(made))?.labels["dev.kubeyard.test"]).toBe("commit");
    const check = await driver.images.commitRun(made, sh(`test "$(cat /made)" = hello || { echo "/made is missing"; exit 7; }`), {
      mounts: [],
      tag: `${made}-checked`,
      changes: [],
    });
    expect(check.exitCode).toBe(0);
    await driver.images.remove(`${made}-checked`);
    const failed = await driver.images.commitRun(made, sh("echo failing; exit 7"), { mounts: [], tag: `${made}-failed`, changes: [] });
    // The engine's stream framing is gone: exactly what the command printed.
    expect(failed).toEqual({ exitCode: 7, output: "failing" });
    expect(await driver.images.inspect(`${made}-failed`)).toBeUndefined();
    const listed = (await driver.images.list({ reference: "kubeyard-test/commit" })).flatMap((i) => i.tags);
    expect(listed).toContain(made);
    expect(listed).not.toContain(`${made}-failed`);
  });

  it("removes the stopped step containers killed builds left once they are old enough, never a running one", async () => {
    const labels = { "dev.kubeyard.build": `kubeyard-test/leftover:${run}` };
    const stopped = await docker.createContainer({
      name: `${run}-step-stopped`,
      Image: image,
      Entrypoint: [BUSYBOX, "true"],
      Labels: labels,
    });
    const running = await docker.createContainer({
      name: `${run}-step-running`,
      Image: image,
      Entrypoint: [BUSYBOX, "sleep", "300"],
      Labels: labels,
    });
    await running.start();
    try {
      expect(await driver.images.removeStoppedRuns(3600_000)).not.toContain(`${run}-step-stopped`);
      expect(await stopped.inspect()).toBeDefined();
      const removed = await driver.images.removeStoppedRuns(0);
      expect(removed).toContain(`${run}-step-stopped`);
      expect(removed).not.toContain(`${run}-step-running`);
      await expect(stopped.inspect()).rejects.toThrow();
      expect((await running.inspect()).State.Running).toBe(true);
    } finally {
      await running.remove({ force: true });
      await stopped.remove({ force: true }).catch(() => undefined);
    }
  });
});

describe("DockerDriver without an engine", () => {
  it("says how to start one", async () => {
    const nowhere = new DockerDriver({ docker: new Dockerode({ socketPath: "/nonexistent/docker.sock" }) });
    const err = await nowhere.preflight().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EngineUnreachableError);
    expect((err as EngineUnreachableError).hint).toMatch(/Start Docker/);
  });
});
