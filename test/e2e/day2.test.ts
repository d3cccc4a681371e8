import { execa } from "execa";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { apply, kubectlOk, runtimeService, waitFor } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * The day-2 commands on one two-node cluster, through the CLI: an image built on the host loaded
 * into both nodes and run from there with imagePullPolicy Never, listed and removed again; a logs
 * bundle for a bug report; ssh into a node; kubectl of the cluster's version; each node's own
 * machine ID and system UUID; pause and unpause with a workload and its data still there afterwards;
 * then stop and start, after which every node has the identity it had before.
 */

const NS = "e2e";
const { user, profile } = clusterForFile("e2e-day2", { startArgs: ["--nodes", "2"], namespaces: [NS] });
const CONTROL_PLANE = `${profile}-control-plane`;
const WORKER = `${profile}-worker`;

const stamp = Math.random().toString(36).slice(2, 10);
/** Built on the host by this file and removed from it afterwards. */
const APP = `kubeyard-e2e/day2-app:${stamp}`;
const APP_IN_NODES = `docker.io/${APP}`;

async function ok(args: string[], input?: string): Promise<string> {
  const r = await user.kubeyard(["-p", profile, ...args], input === undefined ? {} : { input });
  if (r.exitCode !== 0) throw new Error(`kubeyard ${args.join(" ")} failed (${r.exitCode}):\n${String(r.all)}`);
  return String(r.stdout);
}

/** `image ls -o json`: node -> its image references. */
async function imagesPerNode(): Promise<Record<string, string[]>> {
  const list = JSON.parse(await ok(["image", "ls", "-o", "json"])) as { node: string; images: { ref: string }[] }[];
  return Object.fromEntries(list.map((n) => [n.node, n.images.map((i) => i.ref)]));
}

/** A pod of APP on one node, never pulled: it runs only if the node's containerd has the image. */
function appPod(name: string, node: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 0
  tolerations: [{operator: Exists}]
  containers:
    - name: main
      image: ${APP}
      imagePullPolicy: Never
      command: [bash, -c, "cat /stamp; sleep infinity"]
`;
}

beforeAll(async () => {
  const { stdout } = await execa("docker", ["images", "kubeyard/base", "--format", "{{.Repository}}:{{.Tag}}"]);
  const base = stdout.split("\n").find((l) => l && !l.endsWith(":<none>"));
  if (!base) throw new Error("no kubeyard/base image in the engine: the node image build should have made one");
  await execa("docker", ["build", "-q", "-t", APP, "-"], { input: `FROM ${base}\nRUN echo ${stamp} > /stamp\n` });
}, 600_000);

afterAll(async () => {
  await execa("docker", ["rmi", "-f", APP], { reject: false });
});

describe("kubeyard image", () => {
  it("loads a host-built image into every node, where pods run it with imagePullPolicy Never", async () => {
    const out = await ok(["image", "load", APP]);
    expect(out).toContain(`into ${CONTROL_PLANE}, ${WORKER}`);
    await apply(user, appPod("app-cp", CONTROL_PLANE) + "---" + appPod("app-worker", WORKER));
    await waitFor(user, NS, ["pod/app-cp", "pod/app-worker", "--for=condition=Ready"]);
    for (const pod of ["app-cp", "app-worker"]) {
      expect((await kubectlOk(user, "-n", NS, "logs", pod)).trim()).toBe(stamp);
    }
    const nodes = await kubectlOk(user, "-n", NS, "get", "pods", "app-cp", "app-worker", "-o", "jsonpath={.items[*].spec.nodeName}");
    expect(nodes.split(" ").sort()).toEqual([CONTROL_PLANE, WORKER]);
  }, 600_000);

  it("lists the image on each node, in text and JSON", async () => {
    const per = await imagesPerNode();
    expect(Object.keys(per).sort()).toEqual([CONTROL_PLANE, WORKER]);
    for (const refs of Object.values(per)) {
      expect(refs).toContain(APP_IN_NODES);
      expect(refs).toContain(BUSYBOX);
      expect(refs.filter((r) => r.startsWith("sha256:"))).toEqual([]);
    }
    const text = await ok(["image", "ls"]);
    const rows = text
      .split("\n")
      .filter((l) => l.includes(APP_IN_NODES))
      .map((l) => l.split(/\s+/)[0]);
    expect(rows.sort()).toEqual([CONTROL_PLANE, WORKER]);
  });

  it("removes the image from every node; a pod that needs it then cannot start; --archive loads it back", async () => {
    await kubectlOk(user, "-n", NS, "delete", "pod", "app-cp", "app-worker", "--wait=true");
    const out = await ok(["image", "rm", APP]);
    expect(out).toContain(`removed ${APP_IN_NODES} from ${CONTROL_PLANE}`);
    expect(out).toContain(`removed ${APP_IN_NODES} from ${WORKER}`);
    for (const refs of Object.values(await imagesPerNode())) expect(refs.filter((r) => r.includes("day2-app"))).toEqual([]);

    await apply(user, appPod("app-gone", WORKER));
    await waitFor(user, NS, ["pod/app-gone", "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ErrImageNeverPull"]);
    await kubectlOk(user, "-n", NS, "delete", "pod", "app-gone", "--wait=true");

    const again = await user.kubeyard(["-p", profile, "image", "rm", APP]);
    expect(again.exitCode).toBe(1);
    expect(String(again.stderr)).toContain(`${APP_IN_NODES} is on none of the nodes of cluster "${profile}"`);

    const archive = path.join(user.home, "app.tar");
    await execa("docker", ["save", "-o", archive, APP]);
    await ok(["image", "load", "--archive", archive]);
    for (const refs of Object.values(await imagesPerNode())) expect(refs).toContain(APP_IN_NODES);
    await apply(user, appPod("app-again", WORKER));
    await waitFor(user, NS, ["pod/app-again", "--for=condition=Ready"]);
    await kubectlOk(user, "-n", NS, "delete", "pod", "app-again", "--wait=false");
  }, 600_000);

  it("refuses an image the host does not have, before touching any node", async () => {
    const r = await user.kubeyard(["-p", profile, "image", "load", `kubeyard-e2e/absent:${stamp}`]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain(`image kubeyard-e2e/absent:${stamp} is not in the host's container engine`);
  });
});

describe("kubeyard logs", () => {
  const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"];

  function filesUnder(dir: string): string[] {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
  }

  /** Every line of base64 of the cluster's private keys, read from kubeyard's PKI folder. */
  function privateKeyLines(): string[] {
    const pki = path.join(user.env.KUBEYARD_HOME!, "profiles", profile, "pki");
    const keys = filesUnder(pki).filter((f) => f.endsWith(".key"));
    expect(keys.length).toBeGreaterThan(10);
    return keys.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => l.length > 40 && !l.startsWith("-----")),
    );
  }

  it("writes a .tar.gz with every component's log per node, cluster views and the cluster record, without key material", async () => {
    const file = path.join(user.home, "bundle.tar.gz");
    const out = await ok(["logs", "--output", file]);
    expect(out).toContain(`wrote ${file} (2 nodes`);
    const dir = path.join(user.home, "bundle-extracted");
    mkdirSync(dir);
    await tar.x({ file, cwd: dir });
    const [top] = readdirSync(dir);
    const root = path.join(dir, top!);

    const runtime = await runtimeService(user);
    for (const c of [...COMPONENTS, runtime]) {
      expect(statSync(path.join(root, "nodes", CONTROL_PLANE, `${c}.log`)).size, `${c} on the control plane`).toBeGreaterThan(0);
    }
    for (const c of ["kubelet", "kube-proxy", runtime]) {
      expect(statSync(path.join(root, "nodes", WORKER, `${c}.log`)).size, `${c} on the worker`).toBeGreaterThan(0);
    }
    expect(readFileSync(path.join(root, "nodes", CONTROL_PLANE, "kube-apiserver.log"), "utf8")).toMatch(/Serving securely|serving/i);
    expect(readFileSync(path.join(root, "nodes", WORKER, "services.txt"), "utf8")).toMatch(/run: \/etc\/service\/kubelet/);
    expect(readFileSync(path.join(root, "nodes", WORKER, "uname.txt"), "utf8")).toContain("Linux");

    const nodes = readFileSync(path.join(root, "cluster", "nodes.txt"), "utf8");
    expect(nodes).toContain(CONTROL_PLANE);
    expect(nodes).toContain(WORKER);
    expect(readFileSync(path.join(root, "cluster", "pods.txt"), "utf8")).toMatch(/kube-system\s+coredns-/);
    expect(readFileSync(path.join(root, "cluster", "events.txt"), "utf8")).toContain("$ kubectl get events -A");
    const record = JSON.parse(readFileSync(path.join(root, "cluster.json"), "utf8")) as { name: string; nodes: { name: string }[] };
    expect(record.name).toBe(profile);
    expect(record.nodes.map((n) => n.name).sort()).toEqual([CONTROL_PLANE, WORKER]);

    const keyLines = privateKeyLines();
    const files = filesUnder(root);
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      expect(text, f).not.toMatch(/PRIVATE KEY-----\s*\n?[A-Za-z0-9+/]/);
      expect(text, f).not.toContain("client-key-data: LS0t");
      for (const line of keyLines) if (text.includes(line)) throw new Error(`${f} holds a line of one of the cluster's private keys`);
    }
  }, 300_000);

  it("writes a directory too, and refuses a directory that is not empty without changing it", async () => {
    const dir = path.join(user.home, "bundle-dir");
    await ok(["logs", "--output", dir]);
    expect(statSync(path.join(dir, "nodes", WORKER, "kubelet.log")).size).toBeGreaterThan(0);
    expect(readdirSync(path.dirname(dir)).filter((n) => n.includes(".partial"))).toEqual([]);

    const mine = path.join(user.home, "mine");
    mkdirSync(mine);
    writeFileSync(path.join(mine, "notes.txt"), "keep");
    const r = await user.kubeyard(["-p", profile, "logs", "--output", mine]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain("is a directory that is not empty");
    expect(readdirSync(mine)).toEqual(["notes.txt"]);
  }, 300_000);
});

describe("kubeyard ssh", () => {
  it("runs a command in a node and exits with its exit code", async () => {
    const r = await user.kubeyard(["-p", profile, "ssh", "--", "sh", "-c", "hostname; echo oops >&2; exit 7"]);
    expect(r.exitCode).toBe(7);
    expect(String(r.stdout).trim()).toBe(CONTROL_PLANE);
    expect(String(r.stderr).trim()).toBe("oops");
  });

  it("reaches a node by its short name and passes stdin through", async () => {
    const r = await user.kubeyard(["-p", profile, "ssh", "worker", "--", "sh", "-c", "hostname; cat"], { input: "from stdin\n" });
    expect(r.exitCode, String(r.all)).toBe(0);
    // execa strips the final newline.
    expect(String(r.stdout)).toBe(`${WORKER}\nfrom stdin`);
  });

  it("without a command, runs a shell that reads its commands from stdin when there is no terminal", async () => {
    const r = await user.kubeyard(["-p", profile, "ssh", "worker"], { input: "cat /etc/hostname\nexit 3\n" });
    expect(r.exitCode, String(r.all)).toBe(3);
    expect(String(r.stdout)).toContain(WORKER);
  });

  it("names the nodes there are when asked for one that is not", async () => {
    const r = await user.kubeyard(["-p", profile, "ssh", "worker9", "--", "true"]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain(`cluster "${profile}" has no node "worker9"`);
    expect(String(r.stderr)).toContain(`${CONTROL_PLANE}, ${WORKER}`);
  });
});

describe("kubeyard kubectl", () => {
  it("runs kubectl of the cluster's version with its own kubeconfig, passing exit codes through", async () => {
    const before = createHash("sha256").update(readFileSync(user.kubeconfig)).digest("hex");
    // Another kubeconfig entirely: kubeyard kubectl must not depend on it.
    const elsewhere = { env: { ...user.env, KUBECONFIG: path.join(user.home, "no-such-kubeconfig") } };
    const nodes = await user.kubeyard(["-p", profile, "kubectl", "--", "get", "nodes", "-o", "name"], elsewhere);
    expect(nodes.exitCode, String(nodes.all)).toBe(0);
    expect(String(nodes.stdout).trim().split("\n").sort()).toEqual([`node/${CONTROL_PLANE}`, `node/${WORKER}`]);

    const version = JSON.parse(String((await user.kubeyard(["-p", profile, "kubectl", "--", "version", "-o", "json"])).stdout)) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(version.clientVersion.gitVersion).toBe(version.serverVersion.gitVersion);

    const missing = await user.kubeyard(["-p", profile, "kubectl", "--", "-n", NS, "get", "pod", "no-such-pod"]);
    expect(missing.exitCode).toBe(1);
    expect(String(missing.stderr)).toContain('pods "no-such-pod" not found');

    await apply(
      user,
      `
apiVersion: v1
kind: Pod
metadata: {name: shell, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: main, image: ${BUSYBOX}, command: [sleep, "3600"]}]
`,
    );
    await waitFor(user, NS, ["pod/shell", "--for=condition=Ready"]);
    const exit5 = await user.kubeyard(["-p", profile, "kubectl", "--", "-n", NS, "exec", "shell", "--", "sh", "-c", "exit 5"]);
    expect(exit5.exitCode).toBe(5);

    expect(createHash("sha256").update(readFileSync(user.kubeconfig)).digest("hex")).toBe(before);
  }, 300_000);
});

interface NodeIdentity {
  machineID: string;
  systemUUID: string;
}

/** Each node's machineID and systemUUID: as its kubelet reports them, and as the node's own files hold them. */
async function nodeIdentities(): Promise<{ reported: Record<string, NodeIdentity>; inNode: Record<string, NodeIdentity> }> {
  const out = await kubectlOk(user, "get", "nodes", "-o", "json");
  const items = (JSON.parse(out) as { items: { metadata: { name: string }; status: { nodeInfo: NodeIdentity } }[] }).items;
  const reported = Object.fromEntries(
    items.map((n) => [n.metadata.name, { machineID: n.status.nodeInfo.machineID, systemUUID: n.status.nodeInfo.systemUUID }]),
  );
  const inNode: Record<string, NodeIdentity> = {};
  for (const node of [CONTROL_PLANE, WORKER]) {
    const [machineID = "", systemUUID = ""] = (await ok(["ssh", node, "--", "cat", "/etc/machine-id", "/sys/class/dmi/id/product_uuid"]))
      .trim()
      .split("\n");
    inNode[node] = { machineID, systemUUID };
  }
  return { reported, inNode };
}

/** Read before pause, unpause, stop and start; compared after them. */
let firstIdentities: Record<string, NodeIdentity> = {};

describe("each node's identity", () => {
  it("is a machine ID and a system UUID of its own, well-formed, reported by its kubelet", async () => {
    const { reported, inNode } = await nodeIdentities();
    expect(Object.keys(reported).sort()).toEqual([CONTROL_PLANE, WORKER]);
    for (const id of Object.values(reported)) {
      // As systemd writes /etc/machine-id, and as the kernel prints a DMI product UUID.
      expect(id.machineID).toMatch(/^[0-9a-f]{32}$/);
      expect(id.systemUUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(reported[CONTROL_PLANE]!.machineID).not.toBe(reported[WORKER]!.machineID);
    expect(reported[CONTROL_PLANE]!.systemUUID).not.toBe(reported[WORKER]!.systemUUID);
    expect(inNode).toEqual(reported);
    firstIdentities = reported;
  });

  // The product UUID covers part of the node's /sys; the kernel lets a user namespace mount a sysfs
  // of its own only while some sysfs mount shows it all.
  it("leaves room for a pod in a user namespace, which mounts a sysfs of its own", async () => {
    await apply(
      user,
      `
apiVersion: v1
kind: Pod
metadata: {name: userns, namespace: ${NS}}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 0
  containers:
    - name: main
      image: ${BUSYBOX}
      command: [sh, -c, "cat /sys/class/net/eth0/address; sleep 36000"]
`,
    );
    await waitFor(user, NS, ["pod/userns", "--for=condition=Ready"]);
    const uidMap = await kubectlOk(user, "-n", NS, "exec", "userns", "--", "cat", "/proc/self/uid_map");
    // Root in the pod is not root on the node.
    expect(uidMap.trim()).not.toMatch(/^0\s+0\s/);
    expect((await kubectlOk(user, "-n", NS, "logs", "userns")).trim()).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    await kubectlOk(user, "-n", NS, "delete", "pod", "userns", "--wait=false");
  });
});

describe("kubeyard pause and unpause", () => {
  const data = `kept-${stamp}`;
  const podFacts = async () =>
    (
      await kubectlOk(
        user,
        "-n",
        NS,
        "get",
        "pod",
        "keeper",
        "-o",
        "jsonpath={.metadata.uid} {.status.phase} {.status.containerStatuses[0].restartCount}",
      )
    ).trim();
  const apiAnswers = async () => (await user.kubectl(["get", "--raw", "/readyz", "--request-timeout=5s"])).exitCode === 0;

  beforeAll(async () => {
    await apply(
      user,
      `
apiVersion: v1
kind: Pod
metadata: {name: keeper, namespace: ${NS}}
spec:
  nodeName: ${WORKER}
  terminationGracePeriodSeconds: 0
  volumes: [{name: data, emptyDir: {}}]
  containers:
    - name: main
      image: ${BUSYBOX}
      command: [sh, -c, "echo ${data} > /data/note; sleep 36000"]
      volumeMounts: [{name: data, mountPath: /data}]
`,
    );
    await waitFor(user, NS, ["pod/keeper", "--for=condition=Ready"]);
    await kubectlOk(user, "-n", NS, "create", "configmap", "kept", `--from-literal=value=${data}`);
  }, 300_000);

  it("pause freezes every node: the API stops answering and status says paused", async () => {
    const facts = await podFacts();
    expect(facts).toMatch(/ Running 0$/);
    const out = await ok(["pause"]);
    expect(out).toContain(CONTROL_PLANE);
    expect(out).toContain(WORKER);
    for (const n of [CONTROL_PLANE, WORKER]) {
      expect((await execa("docker", ["inspect", "-f", "{{.State.Status}}", n])).stdout).toBe("paused");
    }
    expect(await apiAnswers()).toBe(false);

    const status = await user.kubeyard(["-p", profile, "status"]);
    expect(status.exitCode).toBe(2);
    expect(String(status.stdout)).toContain(`cluster "${profile}": paused`);
    const json = JSON.parse(String((await user.kubeyard(["-p", profile, "status", "-o", "json"])).stdout)) as {
      paused: boolean;
      nodes: { container: string }[];
    };
    expect(json.paused).toBe(true);
    expect(json.nodes.map((n) => n.container)).toEqual(["paused", "paused"]);

    const ssh = await user.kubeyard(["-p", profile, "ssh", "--", "true"]);
    expect(ssh.exitCode).toBe(1);
    expect(String(ssh.stderr)).toContain("kubeyard unpause");

    await ok(["unpause"]);
    expect(await apiAnswers()).toBe(true);
    expect(await podFacts()).toBe(facts);
    expect((await kubectlOk(user, "-n", NS, "exec", "keeper", "--", "cat", "/data/note")).trim()).toBe(data);
    expect(await kubectlOk(user, "-n", NS, "get", "configmap", "kept", "-o", "jsonpath={.data.value}")).toBe(data);
  }, 600_000);

  it("start resumes a paused cluster with the same workload", async () => {
    const facts = await podFacts();
    await ok(["pause"]);
    const start = await user.kubeyard(["start", "-p", profile]);
    expect(start.exitCode, String(start.all)).toBe(0);
    const status = await user.kubeyard(["-p", profile, "status", "-o", "json"]);
    expect(status.exitCode, String(status.all)).toBe(0);
    expect((JSON.parse(String(status.stdout)) as { running: boolean; paused: boolean }).running).toBe(true);
    await eventually("the pod to run as before once start has resumed the cluster", async () => expect(await podFacts()).toBe(facts), {
      timeoutMs: 120_000,
    });
    expect((await kubectlOk(user, "-n", NS, "exec", "keeper", "--", "cat", "/data/note")).trim()).toBe(data);
  }, 600_000);
});

/** What needs running nodes says the node or cluster is stopped and how to start it, and changes nothing. */
async function refusedWhileStopped(): Promise<void> {
  const file = path.join(user.home, "copied-while-stopped");
  writeFileSync(file, "x");
  const cp = await user.kubeyard(["-p", profile, "cp", file, "worker:/root/x"]);
  expect(cp.exitCode, String(cp.all)).not.toBe(0);
  expect(String(cp.stderr)).toContain(`node ${WORKER} is stopped`);
  expect(String(cp.stderr)).toContain("kubeyard start");
  const back = await user.kubeyard(["-p", profile, "cp", `${CONTROL_PLANE}:/etc/hostname`, `${file}-back`]);
  expect(back.exitCode, String(back.all)).not.toBe(0);
  expect(existsSync(`${file}-back`)).toBe(false);
  const ctx = path.join(user.home, "build-while-stopped");
  mkdirSync(ctx, { recursive: true });
  writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY Dockerfile /\n");
  const tag = `kubeyard-e2e/day2-stopped:${stamp}`;
  const build = await user.kubeyard(["-p", profile, "image", "build", "-t", tag, ctx]);
  expect(build.exitCode, String(build.all)).not.toBe(0);
  expect(String(build.stderr)).toContain(`cluster "${profile}" is not running`);
  expect((await execa("docker", ["image", "inspect", tag], { reject: false })).exitCode).not.toBe(0);
}

describe("kubeyard stop and start", () => {
  it("brings every node back with the machine ID and system UUID it had", async () => {
    await ok(["stop"]);
    await refusedWhileStopped();
    await ok(["start"]);
    // The kubelets report again once they are back; the node's files say what they read.
    await eventually(
      "every kubelet to report its node's identity after start",
      async () => {
        const { reported, inNode } = await nodeIdentities();
        expect(inNode).toEqual(firstIdentities);
        expect(reported).toEqual(firstIdentities);
      },
      { timeoutMs: 120_000 },
    );
  }, 600_000);
});
