import { rmSync } from "node:fs";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestUser, engineObjects, uniqueProfile } from "./helpers/cli.js";
import { suiteRuntime, suiteStartArgs } from "./helpers/cluster-for-file.js";
import { kubectlOk, waitFor } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * `kubeyard registry-mirror`: one pull-through cache per registry, outside every cluster. Offline, a
 * local registry stands in for docker.io: it serves an image no node holds, at an address of the host
 * (the default bridge's gateway), as the real one would be reached. Two clusters, one after the other:
 * the first pulls through the mirror; the second gets the image from the mirror's cache alone, with
 * the stand-in stopped and the mirror restarted.
 */

const REGISTRY_IMAGE = "docker.io/library/registry:3.0.0";
const MIRROR = "kubeyard-mirror-docker-io";
const user = new TestUser();
const first = uniqueProfile("e2e-mirror-a");
const second = uniqueProfile("e2e-mirror-b");
const upstream = `kubeyard-e2e-upstream-${Math.random().toString(36).slice(2, 7)}`;
const token = Math.random().toString(36).slice(2, 10);
/** Two tags: one pulled by each cluster's first pod, one only after the second cluster restarts. */
const images = [`mirror-probe:${token}`, `mirror-probe:${token}-again`];
let upstreamUrl = "";

interface Mirror {
  registry: string;
  upstream: string;
  container: string;
  state: string;
  clusters: string[];
}

async function mirrors(): Promise<Mirror[]> {
  const r = await user.kubeyard(["registry-mirror", "status", "-o", "json"]);
  expect(r.exitCode, String(r.all)).toBe(0);
  return JSON.parse(String(r.stdout)) as Mirror[];
}

async function kubeyardOk(...args: string[]): Promise<string> {
  const r = await user.kubeyard(args);
  expect(r.exitCode, `kubeyard ${args.join(" ")}\n${String(r.all)}`).toBe(0);
  return String(r.stdout);
}

/** Runs `docker.io/library/IMAGE` as a pod of the current context's cluster; returns what it printed. */
async function runPod(name: string, image: string): Promise<string> {
  await kubectlOk(user, "run", name, `--image=docker.io/library/${image}`, "--restart=Never", "--image-pull-policy=IfNotPresent");
  await waitFor(user, "default", ["--for=jsonpath={.status.phase}=Running", `pod/${name}`], "120s");
  return (await kubectlOk(user, "logs", name)).trim();
}

async function docker(...args: string[]): Promise<string> {
  return String((await execa("docker", args)).stdout).trim();
}

beforeAll(async () => {
  // The registry image the mirrors run exists once a mirror started; the stand-in runs it too.
  await kubeyardOk("registry-mirror", "start");
  const gateway = await docker("network", "inspect", "bridge", "-f", "{{(index .IPAM.Config 0).Gateway}}");
  // Published on loopback for the host's pushes, and on the gateway for the mirror.
  await docker("run", "-d", "--name", upstream, "-p", "127.0.0.1:0:5000", "-p", `${gateway}:0:5000`, REGISTRY_IMAGE);
  const ports = (await docker("port", upstream, "5000/tcp")).split("\n");
  const local = ports.find((p) => p.startsWith("127.0.0.1:"))!;
  upstreamUrl = `http://${ports.find((p) => p.startsWith(`${gateway}:`))!}`;
  for (const image of images) {
    const ref = `${local}/library/${image}`;
    const dockerfile = `FROM ${BUSYBOX}\nRUN echo ${image} > /said\nCMD ["sh", "-c", "cat /said; exec sleep 3600"]\n`;
    await execa("docker", ["build", "-q", "-t", ref, "-"], { input: dockerfile });
    await docker("push", "-q", ref);
    await docker("rmi", ref);
  }
}, 900_000);

afterAll(async () => {
  for (const p of [first, second]) await user.kubeyard(["delete", "-p", p]);
  await user.kubeyard(["registry-mirror", "stop", "--delete-cache"]);
  await execa("docker", ["rm", "-f", "-v", upstream], { reject: false });
  rmSync(user.home, { recursive: true, force: true });
}, 300_000);

describe("kubeyard registry-mirror", () => {
  it("runs one mirror per registry, each kept running", async () => {
    const list = await mirrors();
    expect(list.map((m) => `${m.registry} ${m.state}`)).toEqual([
      "docker.io running",
      "ghcr.io running",
      "quay.io running",
      "registry.k8s.io running",
    ]);
    expect(list.find((m) => m.registry === "docker.io")?.upstream).toBe("https://registry-1.docker.io");
  });

  it("refuses bad --upstream values, naming each, and changes nothing", async () => {
    const before = await docker("ps", "-a", "--filter", "label=dev.kubeyard.service", "--format", "{{.ID}} {{.Names}}");
    const r = await user.kubeyard(["registry-mirror", "start", "--upstream", "docker.io", "--upstream", "quay.io=ftp://example.com/x"]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('"docker.io": expected REGISTRY=URL');
    expect(String(r.stderr)).toContain('"quay.io=ftp://example.com/x"');
    expect(await docker("ps", "-a", "--filter", "label=dev.kubeyard.service", "--format", "{{.ID}} {{.Names}}")).toBe(before);
  });

  it("takes a new upstream for docker.io, and a new cluster's nodes pull through it", async () => {
    await kubeyardOk("registry-mirror", "start", "--upstream", `docker.io=${upstreamUrl}`);
    expect((await mirrors()).find((m) => m.registry === "docker.io")).toMatchObject({ upstream: upstreamUrl, state: "running" });
    await kubeyardOk("start", "-p", first, ...suiteStartArgs());
    // Neither node nor the real docker.io has these images: only the mirror can have brought them.
    expect(await runPod("first", images[0]!)).toBe(images[0]);
    expect(await runPod("first-again", images[1]!)).toBe(images[1]);
    expect((await mirrors()).every((m) => m.clusters.includes(first))).toBe(true);
  });

  it("is kept across delete, and serves a second cluster from its cache with the upstream gone and itself restarted", async () => {
    await docker("stop", upstream);
    await kubeyardOk("delete", "-p", first);
    expect(await engineObjects(first)).toEqual({ containers: [], networks: [], volumes: [] });
    const kept = await mirrors();
    expect(kept.map((m) => m.state)).toEqual(["running", "running", "running", "running"]);
    expect(kept.flatMap((m) => m.clusters)).not.toContain(first);
    // As after the engine restarts: the mirror must come back without reaching its upstream.
    await docker("restart", MIRROR);
    await kubeyardOk("start", "-p", second, ...suiteStartArgs());
    expect(await runPod("second", images[0]!)).toBe(images[0]);
  });

  it("serves the cluster again after it stops and starts", async () => {
    await kubeyardOk("stop", "-p", second);
    await kubeyardOk("start", "-p", second);
    expect(await runPod("second-again", images[1]!)).toBe(images[1]);
  });

  it("stop removes the mirrors, their caches when asked, and the host files they put in the nodes", async () => {
    const node = `${second}-control-plane`;
    const crio = suiteRuntime() === "cri-o";
    const [dir, hostsFile] = crio
      ? ["/etc/containers/registries.conf.d", "/etc/containers/registries.conf.d/60-kubeyard-mirror-docker.io.conf"]
      : ["/etc/containerd/certs.d", "/etc/containerd/certs.d/docker.io/hosts.toml"];
    expect(await docker("exec", node, "cat", hostsFile)).toContain(crio ? `"${MIRROR}:5000"` : `http://${MIRROR}:5000`);
    await kubeyardOk("registry-mirror", "stop", "--delete-cache");
    expect(await docker("ps", "-a", "--filter", "label=dev.kubeyard.service", "--format", "{{.Names}}")).toBe("");
    expect(await docker("volume", "ls", "--filter", "label=dev.kubeyard.service", "--format", "{{.Name}}")).toBe("");
    const r = await execa("docker", ["exec", node, "ls", dir], { reject: false });
    expect(String(r.stdout)).not.toContain("docker.io");
    expect(await mirrors()).toEqual([]);
  });
});
