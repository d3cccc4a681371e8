import { execa } from "execa";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestUser, engineObjects, uniqueProfile } from "./helpers/cli.js";
import { suiteRuntime, suiteStartArgs } from "./helpers/cluster-for-file.js";
import { containerStarts, restartDockerEngine } from "./helpers/docker-engine.js";
import { eventually } from "../helpers/poll.js";
import { freePort } from "./helpers/free-port.js";
import { httpGet } from "./helpers/http-get.js";
import { apply, inContext, kubectlOk, rolledOut, waitFor } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * A cluster's life through the CLI: a config file, start twice, status, stop and start, a second
 * profile beside it, delete and delete --all, and a restart of the engine underneath it. The main
 * cluster ("A") runs a web server whose page lives on a PersistentVolume and is published on the
 * host through the config's extraPortMappings and the pod's hostPort: fetching that page from the
 * host proves at once that the workload runs, its data survived, and the port path works.
 */

const NS = "e2e";
const NODE_PORT = 30080;

const user = new TestUser();
const A = uniqueProfile("e2e-life");
const B = uniqueProfile("e2e-side");
/** Another person on the same engine, with their own state dir and kubeconfig. */
const other = new TestUser();
const C = uniqueProfile("e2e-other");

const kA = inContext(user, A);
const configFile = path.join(user.home, "cluster.yaml");
const page = `kept-${Math.random().toString(36).slice(2, 10)}`;
let hostPort = 0;

type Kubeconfig = {
  "current-context"?: string;
  contexts?: { name: string }[] | null;
  clusters?: { name: string }[] | null;
  users?: { name: string }[] | null;
};
const readKubeconfig = (u: TestUser) => (parseYaml(readFileSync(u.kubeconfig, "utf8")) ?? {}) as Kubeconfig;
const names = (list: { name: string }[] | null | undefined) => (list ?? []).map((i) => i.name);
const nodeNames = async (profile: string) => (await engineObjects(profile)).containers.sort();

async function ok(u: TestUser, args: string[]): Promise<string> {
  const r = await u.kubeyard(args);
  if (r.exitCode !== 0) throw new Error(`kubeyard ${args.join(" ")} failed (${r.exitCode}):\n${String(r.all)}`);
  return String(r.stdout);
}

/** The page the web server serves from its PersistentVolume, fetched from the host through the mapped port. */
async function pageFromHost(timeoutMs = 180_000): Promise<string> {
  return eventually(
    "the page from the host through the mapped port",
    async () => {
      const res = await httpGet(`http://127.0.0.1:${hostPort}/index.html`, 5_000);
      if (res.status !== 200) throw new Error(`GET from the host: HTTP ${res.status}`);
      return res.body.trim();
    },
    { timeoutMs: timeoutMs },
  );
}

beforeAll(async () => {
  hostPort = await freePort();
  writeFileSync(
    configFile,
    `apiVersion: kubeyard.dev/v1alpha1
kind: Cluster
name: ${A}
containerRuntime: ${suiteRuntime()}
nodes:
  - role: control-plane
    extraPortMappings:
      - {containerPort: ${NODE_PORT}, hostPort: ${hostPort}, listenAddress: 127.0.0.1}
`,
  );
  await ok(user, ["start", "--config", configFile]);

  await kubectlOk(kA, "create", "namespace", NS);
  await apply(
    kA,
    `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: www, namespace: ${NS}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: ${BUSYBOX}
          imagePullPolicy: IfNotPresent
          # Serves whatever is on the volume; it writes nothing itself, so a lost volume shows.
          command: [httpd, -f, -p, "8080", -h, /www]
          ports: [{containerPort: 8080, hostPort: ${NODE_PORT}}]
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
          volumeMounts: [{name: www, mountPath: /www}]
      volumes: [{name: www, persistentVolumeClaim: {claimName: www}}]
`,
  );
  await rolledOut(kA, NS, "deployment/web");
  await kubectlOk(kA, "-n", NS, "exec", "deployment/web", "--", "sh", "-c", `echo ${page} > /www/index.html && sync`);
}, 900_000);

afterAll(async () => {
  // The engine may just have been restarted: give it the time to answer before cleaning up.
  await eventually(
    "the engine to answer",
    async () => {
      if ((await user.kubeyard(["profile", "list"])).exitCode !== 0) throw new Error("engine not answering");
    },
    { timeoutMs: 120_000 },
  ).catch(() => undefined);
  const failures: string[] = [];
  for (const [u, profile] of [
    [user, A],
    [user, B],
    [other, C],
  ] as const) {
    const r = await u.kubeyard(["delete", "-p", profile]);
    if (r.exitCode !== 0) failures.push(`delete ${profile}: ${String(r.all)}`);
    const left = await engineObjects(profile);
    if (left.containers.length + left.networks.length + left.volumes.length) failures.push(`${profile} left ${JSON.stringify(left)}`);
  }
  rmSync(user.home, { recursive: true, force: true });
  rmSync(other.home, { recursive: true, force: true });
  expect(failures).toEqual([]);
}, 600_000);

describe("cluster lifecycle", () => {
  it("starts from a config file whose extra port mapping reaches a pod's hostPort from the host", async () => {
    const mapping = (await execDocker(["port", `${A}-control-plane`, `${NODE_PORT}/tcp`])).trim();
    expect(mapping).toBe(`127.0.0.1:${hostPort}`);
    expect(await pageFromHost()).toBe(page);
  });

  it("leaves a running cluster as it is on a second start, and says so", async () => {
    const nodes = await nodeNames(A);
    const before = await containerStarts(nodes);
    const kubeconfigBefore = readFileSync(user.kubeconfig, "utf8");

    const r = await user.kubeyard(["start", "--config", configFile]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout)).toContain(`cluster "${A}" is already running; nothing changed`);
    expect(String(r.stdout)).toMatch(
      new RegExp(`${A}-control-plane\\s+control-plane\\s+running\\s+${suiteRuntime()} \\d+\\.\\d+\\S*\\s+ok\\s+ok\\s+ok`),
    );

    expect(await nodeNames(A)).toEqual(nodes);
    expect(await containerStarts(nodes)).toEqual(before);
    expect(readFileSync(user.kubeconfig, "utf8")).toBe(kubeconfigBefore);
  });

  it("reports each node's container, kubelet, API server and etcd in status -o json", async () => {
    const r = await user.kubeyard(["-p", A, "status", "-o", "json"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    const s = JSON.parse(String(r.stdout)) as { profile: string; exists: boolean; running: boolean; nodes: Record<string, unknown>[] };
    expect(s).toMatchObject({ profile: A, exists: true, running: true });
    expect(s.nodes).toEqual([
      expect.objectContaining({
        name: `${A}-control-plane`,
        role: "control-plane",
        container: "running",
        kubelet: "ok",
        apiserver: "ok",
        etcd: "ok",
      }),
    ]);
  });

  it("stops, reports the nodes stopped, and starts again with its workload and data", async () => {
    const stop = await user.kubeyard(["-p", A, "stop"]);
    expect(stop.exitCode, String(stop.all)).toBe(0);

    const status = await user.kubeyard(["-p", A, "status"]);
    expect(status.exitCode).not.toBe(0);
    expect(String(status.stdout)).toContain(`cluster "${A}": not running`);
    expect(String(status.stdout)).toMatch(
      new RegExp(`${A}-control-plane\\s+control-plane\\s+stopped\\s+${suiteRuntime()}\\s+stopped\\s+stopped\\s+stopped`),
    );
    const json = JSON.parse(String((await user.kubeyard(["-p", A, "status", "-o", "json"])).stdout)) as {
      running: boolean;
      nodes: { container: string }[];
    };
    expect(json.running).toBe(false);
    expect(json.nodes.map((n) => n.container)).toEqual(["stopped"]);

    // The runtime's start times have whole seconds.
    const startedAt = Math.floor(Date.now() / 1000) * 1000;
    const start = await user.kubeyard(["-p", A, "start"]);
    expect(start.exitCode, String(start.all)).toBe(0);
    expect(String(start.stdout)).toContain(`cluster "${A}" is ready`);
    // "ready" means CoreDNS serves again: its pods run containers of this start, not the status saved before the stop.
    const dns = JSON.parse(await kubectlOk(kA, "get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "json")) as {
      items: {
        status: { conditions?: { type: string; status: string }[]; containerStatuses?: { state: { running?: { startedAt: string } } }[] };
      }[];
    };
    expect(dns.items.length).toBeGreaterThan(0);
    for (const p of dns.items) {
      expect(p.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
      for (const c of p.status.containerStatuses ?? [])
        expect(Date.parse(c.state.running?.startedAt ?? "")).toBeGreaterThanOrEqual(startedAt);
    }
    expect((await user.kubeyard(["-p", A, "status"])).exitCode).toBe(0);

    await rolledOut(kA, NS, "deployment/web");
    await waitFor(kA, NS, ["pod", "-l", "app=web", "--for=jsonpath={.status.phase}=Running"]);
    expect(await pageFromHost()).toBe(page);
  }, 600_000);

  it("runs a second profile beside the first, and deletes exactly that one", async () => {
    await ok(user, ["start", "-p", B, ...suiteStartArgs()]);
    const kB = inContext(user, B);

    const list = JSON.parse(await ok(user, ["profile", "list", "-o", "json"])) as { profile: string; state: string; nodes: number }[];
    for (const p of [A, B]) expect(list.find((r) => r.profile === p)).toMatchObject({ profile: p, state: "running", nodes: 1 });
    expect((await kubectlOk(kA, "get", "nodes", "-o", "name")).trim()).toBe(`node/${A}-control-plane`);
    expect((await kubectlOk(kB, "get", "nodes", "-o", "name")).trim()).toBe(`node/${B}-control-plane`);
    expect(readKubeconfig(user)["current-context"]).toBe(B);

    const objectsB = await engineObjects(B);
    expect(objectsB.containers).toEqual([`${B}-control-plane`]);
    expect(objectsB.networks.length).toBe(1);
    expect(objectsB.volumes.length).toBeGreaterThan(0);
    const objectsA = await engineObjects(A);
    const startsA = await containerStarts(objectsA.containers);

    const del = await user.kubeyard(["-p", B, "delete"]);
    expect(del.exitCode, String(del.all)).toBe(0);

    expect(await engineObjects(B)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(await engineObjects(A)).toEqual(objectsA);
    expect(await containerStarts(objectsA.containers)).toEqual(startsA);
    const kc = readKubeconfig(user);
    for (const entries of [kc.contexts, kc.clusters, kc.users]) {
      expect(names(entries)).not.toContain(B);
      expect(names(entries)).toContain(A);
    }
    // current-context names a context that exists: the one B replaced.
    expect(kc["current-context"]).toBe(A);
    expect((await user.k("get", "nodes", "-o", "name")).trim()).toBe(`node/${A}-control-plane`);
    const after = JSON.parse(await ok(user, ["profile", "list", "-o", "json"])) as { profile: string }[];
    expect(after.map((r) => r.profile)).not.toContain(B);
  }, 600_000);

  it("deletes --all only with --yes, and only the clusters of the user's own state dir", async () => {
    const objectsA = await engineObjects(A);

    // No terminal to ask on: it refuses, names --yes, and deletes nothing.
    const refused = await user.kubeyard(["delete", "--all"], { stdin: "ignore" });
    expect(refused.exitCode).not.toBe(0);
    expect(String(refused.all)).toContain("--yes");
    expect(String(refused.all)).toContain(A);
    expect(await engineObjects(A)).toEqual(objectsA);
    expect((await user.kubeyard(["-p", A, "status"])).exitCode).toBe(0);

    // Another user's `delete --all --yes` removes their cluster and none of this user's.
    await ok(other, ["start", "-p", C, ...suiteStartArgs()]);
    expect((await engineObjects(C)).containers).toEqual([`${C}-control-plane`]);
    const all = await other.kubeyard(["delete", "--all", "--yes"]);
    expect(all.exitCode, String(all.all)).toBe(0);
    expect(String(all.stdout)).toContain(`deleted cluster "${C}"`);
    expect(String(all.stdout)).not.toContain(A);
    expect(await engineObjects(C)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(names(readKubeconfig(other).contexts)).not.toContain(C);
    expect(existsSync(path.join(other.env.KUBEYARD_HOME!, "profiles", C))).toBe(false);
    expect(await engineObjects(A)).toEqual(objectsA);
    expect((await user.kubeyard(["-p", A, "status"])).exitCode).toBe(0);
  }, 600_000);

  // Last: it restarts the engine under every cluster on it.
  it("comes back by itself after the Docker engine restarts", async () => {
    const nodes = await nodeNames(A);
    const before = await containerStarts(nodes);
    // The node's identity as its kubelet reports it and as its files hold it: a restart must keep both.
    const identity = async () => [
      await kubectlOk(kA, "get", "node", `${A}-control-plane`, "-o", "jsonpath={.status.nodeInfo.machineID} {.status.nodeInfo.systemUUID}"),
      (await ok(user, ["-p", A, "ssh", "--", "sh", "-c", 'echo "$(cat /etc/machine-id) $(cat /sys/class/dmi/id/product_uuid)"'])).trim(),
    ];
    const identityBefore = await identity();
    expect(identityBefore[0]).toMatch(/^[0-9a-f]{32} [0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
    expect(identityBefore[1]).toBe(identityBefore[0]);

    await restartDockerEngine();

    // The engine restarted the same containers (restart policy); kubeyard was not involved.
    await eventually(
      "every node container to be running",
      async () => {
        const stdout = await execDocker(["inspect", "--format", "{{.State.Status}}", ...nodes]);
        expect(stdout.trim().split("\n")).toEqual(nodes.map(() => "running"));
      },
      { timeoutMs: 120_000 },
    );
    const after = await containerStarts(nodes);
    for (const n of nodes) {
      expect(after[n]!.id).toBe(before[n]!.id);
      expect(after[n]!.startedAt).not.toBe(before[n]!.startedAt);
    }

    // The API server answers again (nothing to watch before it does), then the node is Ready.
    await eventually("the API server to say ready", () => kubectlOk(kA, "get", "--raw", "/readyz"), {
      timeoutMs: 300_000,
      intervalMs: 2_000,
    });
    await waitFor(kA, "default", [`node/${A}-control-plane`, "--for=condition=Ready"], "300s");
    await rolledOut(kA, NS, "deployment/web", "300s");
    expect(await pageFromHost(300_000)).toBe(page);
    expect(await identity()).toEqual(identityBefore);
  }, 900_000);
});

async function execDocker(args: string[]): Promise<string> {
  return String((await execa("docker", args)).stdout);
}
