import { execa } from "execa";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nodeImageTag, LABEL_K8S_VERSION } from "../../src/artifacts/node-image.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs, NODE_IMAGES } from "../../src/versions/versions.js";
import { createDriver } from "../../src/drivers/index.js";
import { eventually } from "../helpers/poll.js";

const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
const tag = nodeImageTag(v);
const cli = path.resolve("dist/cmd/kubeyard.js");
const cluster = `nodeimg-${Math.random().toString(36).slice(2, 7)}`;
const driver = await createDriver();

afterAll(async () => {
  for (const n of await driver.listNodes(cluster)) await driver.removeNode(n.name);
  await driver.removeNetwork(cluster);
});

describe("the node image", () => {
  it("is up to date when built again with nothing changed", async () => {
    const r = await execa("node", [cli, "build", "node-image", "-o", "json"], { env: { ...process.env, CI: "true" } });
    const result = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(result).toMatchObject({ tag, built: false });
    expect((await driver.images.inspect(tag))?.labels[LABEL_K8S_VERSION]).toBe(`v${v.kubernetes}`);
  });

  it("holds every binary at the expected version, the control plane's in their images", async () => {
    const refs = imageRefs(v);
    const inImage = async (ref: string, binary: string) =>
      (await execa("docker", ["run", "--rm", "--entrypoint", `/usr/local/bin/${binary}`, ref, "--version"])).stdout;
    const controlPlane = [
      await inImage(refs.kubeApiserver, "kube-apiserver"),
      await inImage(refs.kubeControllerManager, "kube-controller-manager"),
      await inImage(refs.kubeScheduler, "kube-scheduler"),
      await inImage(refs.etcd, "etcd"),
    ].join("\n");
    const script = [
      "kubelet --version",
      "kubectl version --client",
      "etcdctl version",
      "containerd --version",
      "runc --version",
      "/opt/cni/bin/bridge --version 2>&1",
      "/opt/cni/bin/portmap --version 2>&1",
    ].join("; ");
    const inNode = (await execa("docker", ["run", "--rm", "--entrypoint", "bash", tag, "-c", script])).stdout;
    const stdout = `${controlPlane}\n${inNode}`;
    expect(stdout.match(new RegExp(`Kubernetes v${v.kubernetes.replace(/\./g, "\\.")}`, "g"))).toHaveLength(4);
    expect(stdout).toContain(`Client Version: v${v.kubernetes}`);
    expect(stdout).toContain(`etcd Version: ${v.etcd}`);
    expect(stdout).toContain(`etcdctl version: ${v.etcd}`);
    expect(stdout).toContain(`containerd github.com/containerd/containerd/v2 v${v.containerd}`);
    expect(stdout).toContain(`runc version ${v.runc}`);
    expect(stdout).toContain(`CNI bridge plugin v${v.cniPlugins}`);
    expect(stdout).toContain(`CNI portmap plugin v${v.cniPlugins}`);
  });

  it("boots as a node whose containerd lists the preloaded pod images", async () => {
    await driver.ensureNetwork(cluster);
    const node = await driver.createNode({ cluster, name: `${cluster}-node`, role: "worker", image: tag, ports: [], mounts: [] });
    const listed = await eventually(
      "containerd in the node to list the preloaded images",
      async () => {
        const { stdout } = await driver.exec(node.name, ["ctr", "-n", "k8s.io", "images", "ls", "-q"]);
        expect(stdout).toContain("pause");
        return stdout;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const refs = imageRefs(v);
    for (const name of NODE_IMAGES) expect(listed).toContain(refs[name]);
    const sv = await driver.exec(node.name, ["sv", "status", "/etc/service/containerd"]);
    expect(sv.stdout).toMatch(/^run: /);
  });

  it("gives every node its own machine ID and product UUID, kept when the node restarts", async () => {
    await driver.ensureNetwork(cluster);
    const [one, two] = [`${cluster}-id1`, `${cluster}-id2`];
    for (const name of [one, two]) await driver.createNode({ cluster, name, role: "worker", image: tag, ports: [], mounts: [] });
    const identity = async (name: string) =>
      eventually(
        "the node to have booted with its identity",
        async () => {
          const { stdout } = await driver.exec(name, ["cat", "/etc/machine-id", "/sys/class/dmi/id/product_uuid"]);
          const [machineID, productUUID] = stdout.trim().split("\n");
          expect(machineID).toMatch(/^[0-9a-f]{32}$/);
          expect(productUUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
          return { machineID, productUUID };
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
    const [a, b] = [await identity(one), await identity(two)];
    expect(a.machineID).not.toBe(b.machineID);
    expect(a.productUUID).not.toBe(b.productUUID);

    await driver.stopNode(one);
    await driver.startNode(one);
    expect(await identity(one)).toEqual(a);
    // The rest of /sys/class is still the kernel's, live: a device made now shows in it.
    expect((await driver.exec(one, ["ip", "link", "add", "idprobe0", "type", "veth", "peer", "name", "idprobe1"])).exitCode).toBe(0);
    expect((await driver.exec(one, ["cat", "/sys/class/net/idprobe0/operstate"])).stdout.trim()).toBe("down");
  });
});
