import { joinMirrors } from "../../src/mirror/mirror.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ClusterApi } from "../../src/create/cluster-api.js";
import type { ClusterDeps } from "../../src/create/context.js";
import { quietRunner } from "../../src/create/action.js";
import { prepareNodesForEnabledAddons } from "../../src/addons/manager.js";
import { readState, writeState } from "../../src/cluster/state.js";
import { resolveConfig, type ConfigFlags } from "../../src/config/index.js";
import { imageRefs } from "../../src/versions/versions.js";
import { addNode } from "../../src/ops/node.js";
import { startCluster } from "../../src/ops/start.js";
import { deleteCluster } from "../../src/day2/delete.js";
import type { Interrupt } from "../../src/ops/interrupt.js";
import { FakeDriver, type ExecCall } from "../helpers/fake-driver.js";

/*
 * start, node add and the addon orchestration driven against the in-memory driver: what they leave in
 * the "engine" (containers, their ports and files, the commands run in them, in order) and on disk
 * (the cluster record, the kubeconfig). The Kubernetes API is the one part answered by the test: it
 * records what was asked of it, in the same sequence as the driver's commands.
 */

const NODE_IMAGE = "kubeyard/node:test";
const LB_IMAGE = "kubeyard/load-balancer:test";

let dir: string;
let driver: FakeDriver;
let events: string[];
let failApi: Error | undefined;
/** The nodes the fake API says their kubelet registered before kubeyard did. */
let registeredByKubelet: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kubeyard-ops-"));
  process.env.KUBEYARD_HOME = path.join(dir, "state");
  process.env.KUBEYARD_CACHE_DIR = path.join(dir, "cache");
  driver = new FakeDriver();
  driver.images.add(NODE_IMAGE);
  driver.images.add(LB_IMAGE);
  events = [];
  failApi = undefined;
  registeredByKubelet = [];
  driver.onExec = (call) => {
    const enable = enabledServices(call);
    if (enable) events.push(...enable.map((s) => `${call.node}: start ${s}`));
  };
});

afterEach(() => {
  delete process.env.KUBEYARD_HOME;
  delete process.env.KUBEYARD_CACHE_DIR;
  rmSync(dir, { recursive: true, force: true });
});

/** The services an exec starts under runit (`bash -c SCRIPT enable SERVICE...`). */
function enabledServices(call: ExecCall): string[] | undefined {
  return call.cmd[0] === "bash" && call.cmd[3] === "enable" ? call.cmd.slice(4) : undefined;
}

const fakeApi = (): ClusterApi => ({
  waitApiServer: async () => {
    if (failApi) throw failApi;
    events.push("api: answers");
  },
  createNodeObjects: async (nodes) => {
    events.push(...nodes.map((n) => `api: Node ${n.config.name}`));
    // As the API server does: once kubeyard has given such a Node its fields, it is no longer one.
    const early = nodes.map((n) => n.config.name).filter((n) => registeredByKubelet.includes(n));
    registeredByKubelet = registeredByKubelet.filter((n) => !early.includes(n));
    return early;
  },
  waitNodesReady: async (names) => void events.push(`api: Ready ${names.join(",")}`),
  waitPriorityClass: async (name) => void events.push(`api: PriorityClass ${name}`),
  enableAddons: async (names) => void events.push(`api: addons ${names.join(",")}`),
  waitPodsBack: async (ns, selector) => void events.push(`api: back ${ns}/${selector}`),
  startKubeProxy: async (objects) => void events.push(`api: kube-proxy ${objects.at(-1)?.kind}`),
});

function deps(kubeconfigPath: string | null): ClusterDeps {
  return {
    driver,
    connectApi: fakeApi,
    kubeconfigPath,
    log: () => undefined,
    ensureNodeImage: async () => NODE_IMAGE,
    ensureLoadBalancerImage: async () => LB_IMAGE,
    enableAddon: async (_profile, name) => void events.push(`addon ${name}`),
    prepareNodesForAddons: (profile, progress) => prepareNodesForEnabledAddons(profile, { driver, onStep: progress }),
    joinRegistryMirror: (cluster) => joinMirrors(driver, cluster),
  };
}

function ui() {
  const controller = new AbortController();
  const interrupt: Interrupt = { signal: controller.signal, fired: () => controller.signal.aborted, dispose: () => undefined };
  const warnings: string[] = [];
  return { runner: quietRunner, interrupt, warn: (t: string) => void warnings.push(t), warnings };
}

async function config(flags: ConfigFlags) {
  return resolveConfig({
    flags: { profile: "demo", ...flags },
    knownAddons: ["coredns", "storage-provisioner", "default-storageclass", "registry"],
  });
}

async function start(flags: ConfigFlags) {
  const kubeconfig = path.join(dir, "kubeconfig");
  const result = await startCluster(await config(flags), deps(kubeconfig), ui());
  return { result, kubeconfig };
}

describe("start against the in-memory driver", () => {
  it("creates every node on the cluster network, with the API published on 127.0.0.1 and each node's own files", async () => {
    const { result, kubeconfig } = await start({ nodes: "3" });
    expect(result.kind).toBe("create");
    const state = (await readState("demo"))!;
    expect(state.phase).toBe("ready");
    const nodes = await driver.listNodes("demo");
    expect(nodes.map((n) => [n.name, n.role, n.state])).toEqual([
      ["demo-control-plane", "control-plane", "running"],
      ["demo-worker", "worker", "running"],
      ["demo-worker2", "worker", "running"],
    ]);
    const subnet = driver.network("demo")!.subnet;
    for (const n of nodes) expect(state.nodes.find((s) => s.name === n.name)!.ip).toBe(n.ip);
    expect(subnet).toBe(state.network.subnet);
    const cp = nodes[0]!;
    expect(cp.ports).toContainEqual(
      expect.objectContaining({ containerPort: 6443, hostPort: state.apiServerPort, listenAddress: "127.0.0.1" }),
    );
    expect(nodes[1]!.ports.some((p) => p.containerPort === 6443)).toBe(false);
    // A control plane holds the API server's key; a worker only the CA and its own kubelet identity.
    expect(driver.readFile("demo-control-plane", "/etc/kubernetes/pki/apiserver.key")).toBeDefined();
    expect(driver.readFile("demo-worker", "/etc/kubernetes/pki/apiserver.key")).toBeUndefined();
    expect(driver.readFile("demo-worker", "/etc/kubernetes/pki/ca.crt")).toBeDefined();
    expect(readFileSync(kubeconfig, "utf8")).toMatch(/current-context: demo/);
  });

  it("starts a control plane's kubelet, then etcd, then the API server, and registers a worker's Node before its kubelet starts", async () => {
    await start({ nodes: "2" });
    const at = (e: string) => {
      const i = events.indexOf(e);
      expect(i, `${e} in ${events.join(" | ")}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // The control plane's kubelet runs etcd and the API server (static pods), so it comes first.
    expect(at("demo-control-plane: start kubelet")).toBeLessThan(at("demo-control-plane: start etcd"));
    expect(at("demo-control-plane: start etcd")).toBeLessThan(at("demo-control-plane: start kube-apiserver"));
    expect(at("demo-control-plane: start kube-apiserver")).toBeLessThan(at("api: answers"));
    expect(at("api: answers")).toBeLessThan(at("api: Node demo-control-plane"));
    expect(at("api: Node demo-worker")).toBeLessThan(at("demo-worker: start kubelet"));
    expect(events.filter((e) => e === "demo-control-plane: start kubelet")).toHaveLength(1);
    expect(at("demo-worker: start kubelet")).toBeLessThan(at("api: Ready demo-control-plane,demo-worker"));
    expect(events.filter((e) => e.startsWith("demo-worker: start"))).toEqual(["demo-worker: start kubelet"]);
    // kube-proxy is a DaemonSet, applied once the Nodes exist and before CoreDNS (which needs Service addresses).
    expect(at("api: Node demo-worker")).toBeLessThan(at("api: kube-proxy DaemonSet"));
    expect(at("api: kube-proxy DaemonSet")).toBeLessThan(at("api: addons coredns"));
  });

  it("restarts a control plane's kubelet that registered its Node before kubeyard did, and no other", async () => {
    registeredByKubelet = ["demo-control-plane"];
    await start({ controlPlanes: "2" });
    const restarts = driver.execs.filter((c) => c.cmd.includes("restart"));
    expect(restarts.map((c) => [c.node, c.cmd.at(-1)])).toEqual([["demo-control-plane", "/etc/service/kubelet"]]);
  });

  it("a second start of a running cluster changes nothing", async () => {
    await start({});
    const before = driver.execs.length;
    const { result } = await start({});
    expect(result.kind).toBe("running");
    expect(driver.execs.length).toBe(before);
  });

  it("a create that fails removes what it made: containers, network, record, kubeconfig context", async () => {
    failApi = new Error("the API server never answered");
    const u = ui();
    const kubeconfig = path.join(dir, "kubeconfig");
    await expect(startCluster(await config({ nodes: "2" }), deps(kubeconfig), u)).rejects.toThrow(/never answered/);
    expect(await driver.listNodes("demo")).toEqual([]);
    expect(driver.network("demo")).toBeUndefined();
    expect(await readState("demo")).toBeUndefined();
    expect(u.warnings.join("\n")).toMatch(/removing the half-made cluster "demo"/);
  });

  it("records the engine; start and delete through another engine are refused, and change nothing", async () => {
    driver.name = "podman";
    await start({});
    expect((await readState("demo"))!.driver).toBe("podman");
    driver.name = "docker";
    await expect(start({})).rejects.toThrow('cluster "demo" runs in podman, not in docker');
    await expect(deleteCluster(driver, "demo", null)).rejects.toThrow('cluster "demo" runs in podman, not in docker');
    expect((await readState("demo"))!.phase).toBe("ready");
    expect((await driver.listNodes("demo")).map((n) => n.state)).toEqual(["running"]);
  });

  it("three control planes get a load balancer that publishes the API, and every control plane runs etcd", async () => {
    await start({ controlPlanes: "3" });
    const lb = (await driver.listNodes("demo")).find((n) => n.role === "load-balancer")!;
    expect(lb.ports.map((p) => p.containerPort)).toEqual([6443]);
    for (const cp of ["demo-control-plane", "demo-control-plane2", "demo-control-plane3"]) expect(events).toContain(`${cp}: start etcd`);
  });
});

describe("node add against the in-memory driver", () => {
  it("provisions a worker as start does, and the first worker taints the control plane", async () => {
    await start({});
    events.length = 0;
    const added = await addNode("demo", "worker", deps(null), ui());
    expect(added).toBe("demo-worker");
    expect((await driver.inspectNode("demo-worker"))?.state).toBe("running");
    expect(driver.readFile("demo-worker", "/etc/kubernetes/pki/ca.crt")).toBeDefined();
    expect(events.indexOf("api: Node demo-worker")).toBeLessThan(events.indexOf("demo-worker: start kubelet"));
    const taint = driver.execs.find((c) => c.cmd.includes("taint"));
    expect(taint?.cmd).toEqual(
      expect.arrayContaining(["taint", "nodes", "demo-control-plane", "node-role.kubernetes.io/control-plane:NoSchedule"]),
    );
    const state = (await readState("demo"))!;
    expect(state.nodes.map((n) => n.name)).toEqual(["demo-control-plane", "demo-worker"]);
    expect(state.config.nodes[0]!.taints).toHaveLength(1);
  });

  it("refuses a control plane while a control plane's node is stopped, naming it, and changes nothing", async () => {
    await start({ controlPlanes: "3" });
    await driver.stopNode("demo-control-plane2");
    const stateBefore = await readState("demo");
    const execsBefore = driver.execs.length;
    const error = await addNode("demo", "control-plane", deps(null), ui()).catch((e: Error) => e);
    expect(String((error as Error).message)).toMatch(/demo-control-plane2 is stopped/);
    expect(await driver.inspectNode("demo-control-plane4")).toBeUndefined();
    expect(await readState("demo")).toEqual(stateBefore);
    expect(driver.execs.filter((c) => c.cmd.includes("member")).slice(execsBefore)).toEqual([]);
  });

  it("refuses a control plane while an etcd member does not answer, before anything changes", async () => {
    await start({ controlPlanes: "3" });
    driver.onExec = (call) => {
      if (call.cmd[0] !== "etcdctl") return;
      if (call.cmd.includes("list")) {
        return {
          stdout: ["a1", "b2", "c3"]
            .map(
              (id, i) =>
                `${id}, started, demo-control-plane${i ? i + 1 : ""}, https://10.0.0.${i + 2}:2380, https://10.0.0.${i + 2}:2379, false`,
            )
            .join("\n"),
        };
      }
      if (call.cmd.some((a) => a === "--endpoints=https://10.0.0.3:2379")) {
        return { exitCode: 1, stderr: '{"level":"warn","msg":"retrying"}\nError: context deadline exceeded' };
      }
    };
    const stateBefore = await readState("demo");
    const error = await addNode("demo", "control-plane", { ...deps(null), etcdHealthWaitMs: 3_000 }, ui())
      .then(() => undefined)
      .catch((e: Error) => e);
    // Bounded: the member stays down for the whole wait, so the add is refused with etcd's reason, not its log.
    expect(error?.message).toMatch(/etcd member demo-control-plane2 \(context deadline exceeded\) did not become healthy within 3 s/);
    expect(error?.message).not.toMatch(/level/);
    expect(await driver.inspectNode("demo-control-plane4")).toBeUndefined();
    expect(await readState("demo")).toEqual(stateBefore);
  });
});

describe("a control plane joining etcd", () => {
  it("registers its Node and starts its kubelet until Ready, then adds its etcd member, then starts etcd and the control plane", async () => {
    await start({ controlPlanes: "3" });
    events.length = 0;
    driver.onExec = (call) => {
      const enable = enabledServices(call);
      if (enable) events.push(...enable.map((s) => `${call.node}: start ${s}`));
      if (call.cmd[0] === "etcdctl" && call.cmd.includes("add")) events.push("etcd: member add");
    };
    await addNode("demo", "control-plane", deps(null), ui());
    const node = "demo-control-plane4";
    const steps = [
      `api: Node ${node}`,
      `${node}: start kubelet`,
      // Its static pods are admitted only against the capacity its kubelet reported.
      `api: Ready ${node}`,
      "etcd: member add",
      `${node}: start etcd`,
      `${node}: start kube-apiserver`,
    ];
    const positions = steps.map((e) => events.indexOf(e));
    expect(
      positions.every((i) => i >= 0),
      events.join(" | "),
    ).toBe(true);
    expect(
      [...positions].sort((a, b) => a - b),
      events.join(" | "),
    ).toEqual(positions);
  });

  it("asks again while etcd answers 'unhealthy cluster' (its leader has not yet seen every member long enough)", async () => {
    await start({ controlPlanes: "3" });
    let refusals = 2;
    driver.onExec = (call) => {
      if (call.cmd[0] === "etcdctl" && call.cmd.includes("add") && refusals > 0) {
        refusals--;
        return { exitCode: 1, stderr: '{"level":"warn"}\nError: etcdserver: unhealthy cluster' };
      }
    };
    const added = await addNode("demo", "control-plane", { ...deps(null), etcdHealthWaitMs: 10_000 }, ui());
    expect(added).toBe("demo-control-plane4");
    expect(refusals).toBe(0);
    expect(driver.execs.filter((c) => c.cmd[0] === "etcdctl" && c.cmd.includes("add"))).toHaveLength(3);
  });

  it("gives up with etcd's reason once the wait is over, and removes the half-added node", async () => {
    await start({ controlPlanes: "3" });
    driver.onExec = (call) => {
      if (call.cmd[0] === "etcdctl" && call.cmd.includes("add")) return { exitCode: 1, stderr: "Error: etcdserver: unhealthy cluster" };
    };
    const stateBefore = await readState("demo");
    await expect(addNode("demo", "control-plane", { ...deps(null), etcdHealthWaitMs: 2_000 }, ui())).rejects.toThrow(
      /member add failed on demo-control-plane: etcdserver: unhealthy cluster$/,
    );
    expect(await driver.inspectNode("demo-control-plane4")).toBeUndefined();
    expect(await readState("demo")).toEqual(stateBefore);
  });
});

describe("addon orchestration against the in-memory driver", () => {
  it("gives every node an enabled addon's image and node files", async () => {
    await start({ nodes: "2" });
    const state = (await readState("demo"))!;
    await writeState({ ...state, addons: [...state.addons, "registry"] });
    await prepareNodesForEnabledAddons("demo", { driver, source: "release" });
    const ref = imageRefs(state.config.versions).registry;
    expect(driver.images.has(ref), `${ref} in ${driver.images.tags().join(", ")}`).toBe(true);
    for (const node of ["demo-control-plane", "demo-worker"]) {
      const imports = driver.execs.filter((c) => c.node === node && c.cmd.join(" ").includes("images import"));
      expect(imports.length, `${node} imported the registry image`).toBeGreaterThan(0);
      expect(driver.files(node).some(([file]) => file.includes("hosts.toml"))).toBe(true);
    }
  });
});
