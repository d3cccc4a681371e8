import { execa } from "execa";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineObjects, KUBEYARD_CLI } from "./helpers/cli.js";
import { clusterForFile, suiteRuntime } from "./helpers/cluster-for-file.js";
import { apply, inContext, kubectlOk, rolledOut, type Kubectl } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * `kubeyard snapshot` on one cluster: a ConfigMap, a CRD and its object, a PVC with data, a Deployment
 * running an image loaded from the host. Saved; then all of it changed (deleted, overwritten, the image
 * removed, another loaded); restored: everything is back, the other image gone, and the workload
 * serves the old data. SIGKILL during a save and during a restore; a second cluster from the snapshot
 * beside the first; export, delete everything, import, restore (the cluster made again).
 */

const NS = "snap";
const stamp = Math.random().toString(36).slice(2, 10);
/** Built on the host by this file: an image no node image holds. */
const APP = `kubeyard-e2e/snapshot-app:${stamp}`;
const APP_IN_NODES = `docker.io/${APP}`;
/** Loaded after the snapshot: a restore removes it. */
const LATER = `kubeyard-e2e/snapshot-later:${stamp}`;
const { user, profile } = clusterForFile("e2e-snapshot", { namespaces: [NS] });
const NODE = `${profile}-control-plane`;
const SNAP = `s-${stamp}`;

const workload = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.kubeyard.dev}
spec:
  group: e2e.kubeyard.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: string}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: greeting, namespace: ${NS}}
data: {text: "saved ${stamp}"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${NS}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: ${APP_IN_NODES}
        imagePullPolicy: Never
        command: [sh, -c, "[ -f /data/v ] || cp /stamp /data/v; sleep 100000"]
        volumeMounts: [{name: d, mountPath: /data}]
      volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`;

const widget = (size: string) => `
apiVersion: e2e.kubeyard.dev/v1
kind: Widget
metadata: {name: w1, namespace: ${NS}}
spec: {size: "${size}"}
`;

async function ok(...args: string[]): Promise<string> {
  const r = await user.kubeyard(args);
  if (r.exitCode !== 0) throw new Error(`kubeyard ${args.join(" ")} failed (${r.exitCode}):\n${String(r.all)}`);
  return String(r.stdout);
}

/** What the app's volume holds, read through the running pod. */
async function volumeData(k: Kubectl = user): Promise<string> {
  await rolledOut(k, NS, "deployment/app");
  return (await kubectlOk(k, "-n", NS, "exec", "deploy/app", "--", "cat", "/data/v")).trim();
}

async function nodeImages(cluster = profile): Promise<string[]> {
  const list = JSON.parse(await ok("-p", cluster, "image", "ls", "-o", "json")) as { images: { ref: string }[] }[];
  return list.flatMap((n) => n.images.map((i) => i.ref));
}

/** Everything the snapshot holds, as the cluster (the current context's, or `cluster`) shows it. */
async function expectSavedState(cluster?: string): Promise<void> {
  const k = cluster ? inContext(user, cluster) : user;
  expect(await kubectlOk(k, "-n", NS, "get", "configmap", "greeting", "-o", "jsonpath={.data.text}")).toBe(`saved ${stamp}`);
  expect(await kubectlOk(k, "-n", NS, "get", "widget", "w1", "-o", "jsonpath={.spec.size}")).toBe("small");
  expect(await kubectlOk(k, "-n", NS, "get", "configmap", "-o", "name")).not.toContain("configmap/later");
  expect(await volumeData(k)).toBe(stamp);
  expect(await nodeImages(cluster)).toContain(APP_IN_NODES);
}

/** Runs kubeyard -v and kills it with SIGKILL as soon as its output shows `marker`. */
async function killAt(marker: string, ...args: string[]): Promise<string> {
  const child = execa("node", [KUBEYARD_CLI, "-v", ...args], { env: user.env, reject: false, all: true });
  let seen = "";
  child.all!.on("data", (d: Buffer) => {
    seen += d.toString();
    if (seen.includes(marker)) child.kill("SIGKILL");
  });
  const r = await child;
  expect(r.signal, `kubeyard ${args.join(" ")} ended before "${marker}":\n${seen}`).toBe("SIGKILL");
  return seen;
}

async function nodeState(): Promise<string> {
  return String((await execa("docker", ["inspect", "-f", "{{.State.Status}}", NODE])).stdout).trim();
}

async function kubeletAnswers(): Promise<boolean> {
  const r = await execa("docker", ["exec", NODE, "curl", "-sf", "http://127.0.0.1:10248/healthz"], { reject: false });
  return r.exitCode === 0;
}

async function nodeStartedAt(): Promise<string> {
  return String((await execa("docker", ["inspect", "-f", "{{.State.StartedAt}}", NODE])).stdout).trim();
}

beforeAll(async () => {
  await execa("docker", ["build", "-q", "-t", APP, "-"], { input: `FROM ${BUSYBOX}\nRUN echo ${stamp} > /stamp\n` });
  await ok("-p", profile, "image", "load", APP);
  await apply(user, workload);
  await kubectlOk(user, "wait", "--for=condition=Established", "crd/widgets.e2e.kubeyard.dev", "--timeout=60s");
  await apply(user, widget("small"));
  expect(await volumeData()).toBe(stamp);
}, 300_000);

afterAll(async () => {
  await execa("docker", ["rmi", "-f", APP, LATER], { reject: false });
});

describe("kubeyard snapshot", () => {
  it("refuses bad input before anything is made", async () => {
    const bad = await user.kubeyard(["-p", profile, "snapshot", "save", "Not A Name"]);
    expect(bad.exitCode).not.toBe(0);
    expect(String(bad.stderr)).toContain('"Not A Name" is not a snapshot name');
    const missing = await user.kubeyard(["snapshot", "restore", "never-saved"]);
    expect(missing.exitCode).not.toBe(0);
    expect(String(missing.stderr)).toContain('there is no snapshot "never-saved"');
    expect(JSON.parse(await ok("snapshot", "list", "-o", "json"))).toEqual([]);
  });

  it("saves the cluster: its nodes, its addons and the image the node image lacks", async () => {
    await ok("-p", profile, "snapshot", "save", SNAP);
    const [s] = JSON.parse(await ok("snapshot", "list", "-o", "json")) as {
      name: string;
      profile: string;
      runtime: string;
      nodes: { name: string; images: string[] }[];
      addons: string[];
      bytes: number;
    }[];
    expect(s).toMatchObject({ name: SNAP, profile, runtime: suiteRuntime() });
    expect(s!.nodes.map((n) => n.name)).toEqual([NODE]);
    expect(s!.nodes[0]!.images).toEqual([APP_IN_NODES]);
    expect(s!.addons).toEqual(expect.arrayContaining(["coredns", "storage-provisioner"]));
    expect(s!.bytes).toBeGreaterThan(0);
    const again = await user.kubeyard(["-p", profile, "snapshot", "save", SNAP]);
    expect(again.exitCode).not.toBe(0);
    expect(String(again.stderr)).toContain(`a snapshot "${SNAP}" exists already`);
  }, 120_000);

  it("restores objects, volume contents and the image after all of them changed", async () => {
    await kubectlOk(user, "-n", NS, "exec", "deploy/app", "--", "sh", "-c", "echo overwritten > /data/v");
    await kubectlOk(user, "-n", NS, "delete", "configmap", "greeting");
    await kubectlOk(user, "-n", NS, "create", "configmap", "later", "--from-literal=a=b");
    await apply(user, widget("large"));
    await kubectlOk(user, "-n", NS, "delete", "deployment", "app", "--wait");
    await ok("-p", profile, "image", "rm", APP_IN_NODES);
    expect(await nodeImages()).not.toContain(APP_IN_NODES);
    await execa("docker", ["tag", APP, LATER]);
    await ok("-p", profile, "image", "load", LATER);
    expect(await nodeImages()).toContain(`docker.io/${LATER}`);

    const started = await nodeStartedAt();
    await ok("snapshot", "restore", SNAP);
    await expectSavedState();
    expect(await nodeImages()).not.toContain(`docker.io/${LATER}`);
    // Restored in place: the node container ran on throughout.
    expect(await nodeStartedAt()).toBe(started);
  }, 300_000);

  it("SIGKILL while the nodes are paused for a save leaves the cluster running and no snapshot", async () => {
    await killAt("pause 1 node", "-p", profile, "snapshot", "save", "killed");
    await expect.poll(nodeState, { timeout: 10_000 }).toBe("running");
    const names = (JSON.parse(await ok("snapshot", "list", "-o", "json")) as { name: string }[]).map((s) => s.name);
    expect(names).toEqual([SNAP]);
    expect(await volumeData()).toBe(stamp);
  }, 180_000);

  it("SIGKILL during a restore leaves a cluster that restores again", async () => {
    await kubectlOk(user, "-n", NS, "delete", "configmap", "greeting");
    // Killed while the kubelet is stopped and the objects are being replaced: the kubelet comes back
    // by itself within a minute, and another restore finishes the job.
    await killAt("replace the objects in etcd", "snapshot", "restore", SNAP);
    expect(await kubeletAnswers()).toBe(false);
    await expect.poll(kubeletAnswers, { timeout: 90_000, interval: 2_000 }).toBe(true);
    await ok("snapshot", "restore", SNAP);
    await expectSavedState();
  }, 400_000);

  it("start --from-snapshot makes a second, independent cluster with the same state while the first runs", async () => {
    const copy = `${profile}-copy`;
    try {
      expect(await ok("start", "--from-snapshot", SNAP, "-p", copy)).toContain(
        `cluster "${copy}" is ready with the state of snapshot "${SNAP}"`,
      );
      // Ready as the command returns: the saved pod, bound to the saved node, was made again on the copy's.
      const pods = await kubectlOk(
        inContext(user, copy),
        ...["-n", NS, "get", "pods", "-l", "app=app", "-o"],
        `jsonpath={range .items[*]}{.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}`,
      );
      expect(pods.trim()).toBe(`${copy}-control-plane True`);
      await expectSavedState(copy);
      const nodes = await kubectlOk(inContext(user, copy), "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}");
      expect(nodes).toBe(`${copy}-control-plane`);
      await kubectlOk(inContext(user, copy), "-n", NS, "exec", "deploy/app", "--", "sh", "-c", "echo copy > /data/v");
      expect(await volumeData(inContext(user, copy))).toBe("copy");
      expect(await volumeData(inContext(user, profile))).toBe(stamp);
    } finally {
      await ok("delete", "-p", copy);
      await kubectlOk(user, "config", "use-context", profile);
    }
    expect(await engineObjects(copy)).toEqual({ containers: [], networks: [], volumes: [] });
    const mixed = await user.kubeyard(["start", "--from-snapshot", SNAP, "-p", copy, "--nodes", "2"]);
    expect(mixed.exitCode).not.toBe(0);
    expect(String(mixed.stderr)).toContain("leave out --nodes");
  }, 600_000);

  it("export, delete everything, import: restore makes the cluster again as it was saved", async () => {
    const file = path.join(user.home, "snap.tar");
    await ok("snapshot", "export", SNAP, file);
    await ok("delete", "-p", profile);
    await ok("snapshot", "rm", SNAP);
    expect(JSON.parse(await ok("snapshot", "list", "-o", "json"))).toEqual([]);
    await ok("snapshot", "import", file);
    expect(await ok("snapshot", "restore", SNAP)).toContain("(made again)");
    await expectSavedState();
  }, 600_000);
});
