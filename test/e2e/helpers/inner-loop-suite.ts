import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../../helpers/poll.js";
import type { TestUser } from "./cli.js";
import { apply, kubectlOk, rolledOut, waitFor } from "./kubectl.js";
import { BUSYBOX } from "./node-images.js";

export interface InnerLoopCluster {
  user: TestUser;
  profile: string;
  namespace: string;
  /** The cluster's Kubernetes nodes, all running. */
  nodes: string[];
  /** A host folder the cluster was started with as `--mount HOST:NODE` on every node. */
  mount: { host: string; node: string };
  /** Written into `mount.host` before the cluster started. */
  mountedFile: { name: string; content: string };
}

/**
 * The developer's inner loop against a running cluster: `image build` lands an image on every node,
 * `cp` moves files both ways, and a `--mount` folder is shared by the host and pods (hostPath and a
 * `local` PersistentVolume). Registered into the file whose cluster has the right shape.
 */
export function describeInnerLoop(c: () => InnerLoopCluster): void {
  const stamp = randomBytes(4).toString("hex");
  const image = `kubeyard-e2e/inner-loop:${stamp}`;
  const broken = `kubeyard-e2e/inner-loop-broken:${stamp}`;
  const trimmed = `kubeyard-e2e/inner-loop-trimmed:${stamp}`;

  async function ky(args: string[]) {
    const { user, profile } = c();
    return user.kubeyard(["-p", profile, ...args]);
  }
  async function kyOk(args: string[]): Promise<string> {
    const r = await ky(args);
    if (r.exitCode !== 0) throw new Error(`kubeyard ${args.join(" ")} failed (${r.exitCode}):\n${String(r.all)}`);
    return String(r.stdout);
  }
  const work = () => {
    const dir = path.join(c().user.home, `inner-loop-${randomBytes(3).toString("hex")}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  afterAll(async () => {
    await execa("docker", ["rmi", "-f", image, broken, trimmed], { reject: false });
  });

  describe("kubeyard image build", () => {
    it("builds with the host's engine, streaming its output, and a Deployment runs the image on every node with imagePullPolicy Never", async () => {
      const { user, namespace, nodes } = c();
      const ctx = work();
      writeFileSync(path.join(ctx, "greeting"), `hello from ${stamp}`);
      writeFileSync(path.join(ctx, "app.Dockerfile"), `FROM ${BUSYBOX}\nARG STAMP\nENV STAMP=$STAMP\nCOPY greeting /greeting\n`);
      const out = await kyOk(["image", "build", "-t", image, "-f", path.join(ctx, "app.Dockerfile"), "--build-arg", `STAMP=${stamp}`, ctx]);
      // The classic builder's own lines, passed on as they came.
      expect(out).toMatch(/Step 1\/4 : FROM/);
      expect(out).toMatch(/Successfully tagged/);
      expect(out).toMatch(new RegExp(`built ${image} and loaded it \\(.+\\) into (.+)`));
      for (const n of nodes) expect(out).toContain(n);

      await apply(
        user,
        `
apiVersion: apps/v1
kind: Deployment
metadata: {name: built, namespace: ${namespace}}
spec:
  replicas: ${nodes.length}
  selector: {matchLabels: {app: built}}
  template:
    metadata: {labels: {app: built}}
    spec:
      terminationGracePeriodSeconds: 0
      tolerations: [{operator: Exists}]
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {labelSelector: {matchLabels: {app: built}}, topologyKey: kubernetes.io/hostname}
      containers:
        - name: main
          image: ${image}
          imagePullPolicy: Never
          command: [sh, -c, 'echo "$(cat /greeting) $STAMP"; exec sleep 3600']
`,
      );
      await rolledOut(user, namespace, "deployment/built");
      const pods = (
        await kubectlOk(
          user,
          "-n",
          namespace,
          "get",
          "pods",
          "-l",
          "app=built",
          "-o",
          'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}',
        )
      )
        .trim()
        .split("\n")
        .map((l) => l.split(" ") as [string, string]);
      expect(pods.map(([, node]) => node).sort()).toEqual([...nodes].sort());
      for (const [pod] of pods) expect((await kubectlOk(user, "-n", namespace, "logs", pod)).trim()).toBe(`hello from ${stamp} ${stamp}`);
      await kubectlOk(user, "-n", namespace, "delete", "deployment", "built", "--wait=false");
    }, 600_000);

    it("sends the folder without what its .dockerignore excludes, as docker build does", async () => {
      const ctx = work();
      mkdirSync(path.join(ctx, "node_modules", "dep"), { recursive: true });
      for (const f of ["node_modules/dep/index.js", "secret.env", "debug.log", "keep.log", "app.js"]) writeFileSync(path.join(ctx, f), f);
      writeFileSync(path.join(ctx, ".dockerignore"), "node_modules\n*.env\n*.log\n!keep.log\n");
      writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${BUSYBOX}\nCOPY . /ctx\n`);
      await kyOk(["image", "build", "-t", trimmed, ctx]);
      const { stdout } = await execa("docker", ["run", "--rm", trimmed, "find", "/ctx", "-type", "f"]);
      expect(stdout.split("\n").sort()).toEqual(["/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/app.js", "/ctx/keep.log"]);
    });

    it("fails with the engine's error when the build fails, and loads nothing", async () => {
      const ctx = work();
      writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${BUSYBOX}\nCOPY not-there /x\n`);
      const r = await ky(["image", "build", "-t", broken, ctx]);
      expect(r.exitCode, String(r.all)).not.toBe(0);
      expect(String(r.stderr)).toContain(`building ${broken} failed`);
      expect(String(r.stderr)).toMatch(/not-there/);
      expect((await execa("docker", ["image", "inspect", broken], { reject: false })).exitCode).not.toBe(0);
      const listed = JSON.parse(await kyOk(["image", "ls", "-o", "json"])) as { images: { ref: string }[] }[];
      expect(listed.flatMap((n) => n.images.map((i) => i.ref)).filter((ref) => ref.includes("inner-loop-broken"))).toEqual([]);
    });
  });

  describe("kubeyard cp", () => {
    it("copies a file into a node by its short name and back, byte for byte, under the node's tmpfs too", async () => {
      const { profile, nodes } = c();
      const dir = work();
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      writeFileSync(path.join(dir, "blob.bin"), bytes);
      const short = nodes[nodes.length - 1]!.slice(profile.length + 1);
      await kyOk(["cp", path.join(dir, "blob.bin"), `${short}:/root/in/blob.bin`]);
      await kyOk(["cp", `${short}:/root/in/blob.bin`, path.join(dir, "back.bin")]);
      expect(readFileSync(path.join(dir, "back.bin")).equals(bytes)).toBe(true);
      await kyOk(["cp", path.join(dir, "blob.bin"), `${nodes[0]}:/tmp/`]);
      const sum = await kyOk(["ssh", nodes[0]!, "--", "sha256sum", "/tmp/blob.bin"]);
      const { stdout } = await execa("sha256sum", [path.join(dir, "blob.bin")]);
      expect(sum.split(" ")[0]).toBe(stdout.split(" ")[0]);
    });

    it("copies a folder in and back out into an existing folder, with every file's content", async () => {
      const { nodes } = c();
      const dir = work();
      const tree = path.join(dir, "tree");
      mkdirSync(path.join(tree, "a", "b"), { recursive: true });
      writeFileSync(path.join(tree, "top.txt"), "top");
      writeFileSync(path.join(tree, "a", "b", "deep.txt"), "deep");
      await kyOk(["cp", tree, `${nodes[1]}:/opt/copied`]);
      expect((await kyOk(["ssh", nodes[1]!, "--", "cat", "/opt/copied/a/b/deep.txt"])).trim()).toBe("deep");
      const out = path.join(dir, "out");
      mkdirSync(out);
      await kyOk(["cp", `${nodes[1]}:/opt/copied`, out]);
      expect(readdirSync(path.join(out, "copied")).sort()).toEqual(["a", "top.txt"]);
      expect(readFileSync(path.join(out, "copied", "top.txt"), "utf8")).toBe("top");
      expect(readFileSync(path.join(out, "copied", "a", "b", "deep.txt"), "utf8")).toBe("deep");
    });

    it("names what is wrong: a node the cluster does not have, a missing source on either side", async () => {
      const { profile, nodes } = c();
      const dir = work();
      writeFileSync(path.join(dir, "f"), "x");
      const unknown = await ky(["cp", path.join(dir, "f"), "nope:/x"]);
      expect(unknown.exitCode).not.toBe(0);
      expect(String(unknown.stderr)).toContain(`cluster "${profile}" has no node "nope"`);
      for (const n of nodes) expect(String(unknown.stderr)).toContain(n);
      const noHost = await ky(["cp", path.join(dir, "missing"), `${nodes[0]}:/x`]);
      expect(noHost.exitCode).not.toBe(0);
      expect(String(noHost.stderr)).toContain("no such file or folder on the host");
      const noNode = await ky(["cp", `${nodes[0]}:/no/such/file`, path.join(dir, "g")]);
      expect(noNode.exitCode).not.toBe(0);
      expect(String(noNode.stderr)).toContain(`${nodes[0]}:/no/such/file: no such file or folder in the node`);
      expect(() => statSync(path.join(dir, "g"))).toThrow();
    });
  });

  describe("a host folder mounted with start --mount", () => {
    it("is read by a pod through a hostPath volume, sees the host's later writes, and its writes show on the host", async () => {
      const { user, namespace, nodes, mount, mountedFile } = c();
      writeFileSync(path.join(mount.host, "later.txt"), `written after start ${stamp}`);
      const node = nodes[nodes.length - 1]!;
      await apply(
        user,
        `
apiVersion: v1
kind: Pod
metadata: {name: hostpath-reader, namespace: ${namespace}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 0
  tolerations: [{operator: Exists}]
  restartPolicy: Never
  volumes: [{name: shared, hostPath: {path: ${mount.node}, type: Directory}}]
  containers:
    - name: main
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sh, -c, 'cat /shared/${mountedFile.name}; echo; cat /shared/later.txt; echo; hostname > /shared/from-hostpath-pod']
      volumeMounts: [{name: shared, mountPath: /shared}]
`,
      );
      await waitFor(user, namespace, ["pod/hostpath-reader", "--for=jsonpath={.status.phase}=Succeeded"]);
      const logs = (await kubectlOk(user, "-n", namespace, "logs", "hostpath-reader")).trim().split("\n");
      expect(logs).toEqual([mountedFile.content, `written after start ${stamp}`]);
      expect(readFileSync(path.join(mount.host, "from-hostpath-pod"), "utf8").trim()).toBe("hostpath-reader");
    });

    it("backs a local PersistentVolume pinned to one node, which a claim binds and its pod reads and writes", async () => {
      const { user, namespace, nodes, mount, mountedFile } = c();
      const node = nodes[1]!;
      const pv = `shared-${namespace}-${stamp}`;
      await apply(
        user,
        `
apiVersion: v1
kind: PersistentVolume
metadata: {name: ${pv}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: host-folder
  local: {path: ${mount.node}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [${node}]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: ${namespace}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: host-folder
  volumeName: ${pv}
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: local-pv-reader, namespace: ${namespace}}
spec:
  terminationGracePeriodSeconds: 0
  tolerations: [{operator: Exists}]
  restartPolicy: Never
  volumes: [{name: shared, persistentVolumeClaim: {claimName: shared}}]
  containers:
    - name: main
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sh, -c, 'cat /data/${mountedFile.name}; echo ${stamp} > /data/from-local-pv-pod']
      volumeMounts: [{name: shared, mountPath: /data}]
`,
      );
      try {
        await waitFor(user, namespace, ["pod/local-pv-reader", "--for=jsonpath={.status.phase}=Succeeded"]);
        expect((await kubectlOk(user, "-n", namespace, "get", "pvc", "shared", "-o", "jsonpath={.status.phase}")).trim()).toBe("Bound");
        expect((await kubectlOk(user, "-n", namespace, "get", "pod", "local-pv-reader", "-o", "jsonpath={.spec.nodeName}")).trim()).toBe(
          node,
        );
        expect((await kubectlOk(user, "-n", namespace, "logs", "local-pv-reader")).trim()).toBe(mountedFile.content);
        await eventually("the pod's write to show on the host", () =>
          expect(readFileSync(path.join(mount.host, "from-local-pv-pod"), "utf8").trim()).toBe(stamp),
        );
      } finally {
        await user.kubectl(["-n", namespace, "delete", "pod/local-pv-reader", "pvc/shared", "--wait=false"]);
        await user.kubectl(["delete", "pv", pv, "--wait=false"]);
      }
    });

    it("is fixed at creation: start with another --mount on the running cluster refuses, saying what to do, and changes nothing", async () => {
      const { mount } = c();
      const other = work();
      const r = await ky(["start", "--mount", `${other}:/other`]);
      expect(r.exitCode, String(r.all)).not.toBe(0);
      expect(String(r.stderr)).toContain(`${mount.host}:${mount.node}`);
      expect(String(r.stderr)).toContain("fixed when it is created");
      expect(String(r.stderr)).toMatch(/kubeyard cp/);
      const status = await ky(["status"]);
      expect(status.exitCode, String(status.all)).toBe(0);
    });
  });
}
