import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";
import { COMPONENTS, resolveConfig, type ClusterConfig, type Taint } from "../../src/config/index.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "config");
const noArgs = Object.fromEntries(COMPONENTS.map((c) => [c, {}])) as ClusterConfig["extraArgs"];
const cpLabel = { "node-role.kubernetes.io/control-plane": "" };
const cpTaint: Taint = { key: "node-role.kubernetes.io/control-plane", value: "", effect: "NoSchedule" };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("resolveConfig with a full file", () => {
  it("resolves every field of the file to the expected ClusterConfig", async () => {
    const file = path.join(fixtures, "full.yaml");
    const cfg = await resolveConfig({ file });
    const expected: ClusterConfig = {
      name: "dev",
      kubernetesVersion: `v${findVersion("1.36")!.kubernetes}`,
      versions: findVersion("1.36")!,
      containerRuntime: "containerd",
      nodeImage: "registry.example.com/kubeyard/node:v1.36.4",
      networking: {
        ipFamily: "ipv4",
        podSubnet: "10.200.0.0/16",
        serviceSubnet: "10.100.0.0/16",
        dnsDomain: "dev.local",
        dnsServiceIP: "10.100.0.10",
        kubernetesServiceIP: "10.100.0.1",
        nodeCidrMaskSize: 24,
        apiServerAddress: "127.0.0.1",
        apiServerPort: 6443,
      },
      nodes: [
        {
          name: "dev-control-plane",
          role: "control-plane",
          image: "registry.example.com/kubeyard/node:v1.36.4",
          labels: { tier: "web", "example.com/zone": "a", ...cpLabel },
          taints: [cpTaint, { key: "dedicated", value: "infra", effect: "NoSchedule" }],
          extraPortMappings: [
            { containerPort: 80, hostPort: 8080, listenAddress: "127.0.0.1", protocol: "TCP" },
            { containerPort: 53, hostPort: 5353, listenAddress: "127.0.0.1", protocol: "UDP" },
          ],
          extraMounts: [{ hostPath: path.join(fixtures, "shared"), containerPath: "/data", readOnly: true }],
        },
        {
          name: "dev-worker",
          role: "worker",
          image: "registry.example.com/kubeyard/node:custom",
          labels: {},
          taints: [],
          extraPortMappings: [{ containerPort: 443, hostPort: 0, listenAddress: "127.0.0.1", protocol: "TCP" }],
          extraMounts: [],
        },
        {
          name: "dev-worker2",
          role: "worker",
          image: "registry.example.com/kubeyard/node:v1.36.4",
          labels: { enabled: "true" },
          taints: [],
          extraPortMappings: [],
          extraMounts: [],
        },
      ],
      featureGates: { SomeGate: true, OtherGate: false },
      extraArgs: { ...noArgs, "kube-apiserver": { v: "2", "audit-log-path": "/var/log/audit.log" }, kubelet: { "max-pods": "200" } },
      addons: ["ingress", "metrics-server"],
      addonPorts: { ingressHttp: 8081, ingressHttps: null, registry: 0, ingressDns: 1153 },
      configFile: file,
    };
    expect(cfg).toEqual(expected);
  });

  it("is deeply frozen", async () => {
    const cfg = await resolveConfig({ file: path.join(fixtures, "full.yaml") });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.nodes[0]!.labels)).toBe(true);
    expect(Object.isFrozen(cfg.extraArgs["kube-apiserver"])).toBe(true);
    expect(() => {
      (cfg.networking as { apiServerPort: number }).apiServerPort = 1;
    }).toThrow(TypeError);
    // The shared version table is not frozen by handing out a config built from it.
    expect(Object.isFrozen(findVersion("1.36"))).toBe(false);
  });
});

describe("the container runtime", () => {
  it("is null (containerd) unless chosen, the file's when only the file chooses, and the flag's over the file's", async () => {
    expect((await resolveConfig({})).containerRuntime).toBeNull();
    const file = await configFile("crio.yaml", "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\ncontainerRuntime: cri-o\n");
    expect((await resolveConfig({ file })).containerRuntime).toBe("cri-o");
    expect((await resolveConfig({ file, flags: { containerRuntime: "containerd" } })).containerRuntime).toBe("containerd");
    expect((await resolveConfig({ flags: { containerRuntime: " cri-o " } })).containerRuntime).toBe("cri-o");
  });
});

describe("resolveConfig defaults", () => {
  it("gives one untainted control plane and kind's networks with no file and no flags", async () => {
    const cfg = await resolveConfig({});
    expect(cfg).toEqual({
      name: "kubeyard",
      kubernetesVersion: `v${DEFAULT_KUBERNETES_VERSION}`,
      versions: findVersion(DEFAULT_KUBERNETES_VERSION)!,
      containerRuntime: null,
      nodeImage: null,
      networking: {
        ipFamily: "ipv4",
        podSubnet: "10.244.0.0/16",
        serviceSubnet: "10.96.0.0/12",
        dnsDomain: "cluster.local",
        dnsServiceIP: "10.96.0.10",
        kubernetesServiceIP: "10.96.0.1",
        nodeCidrMaskSize: 24,
        apiServerAddress: "127.0.0.1",
        apiServerPort: 0,
      },
      nodes: [
        {
          name: "kubeyard-control-plane",
          role: "control-plane",
          image: null,
          labels: cpLabel,
          taints: [],
          extraPortMappings: [],
          extraMounts: [],
        },
      ],
      featureGates: {},
      extraArgs: noArgs,
      addons: [],
      addonPorts: { ingressHttp: null, ingressHttps: null, registry: null, ingressDns: null },
      configFile: null,
    } satisfies ClusterConfig);
  });

  it("defaults everything but apiVersion and kind in a minimal file", async () => {
    const file = await configFile("minimal.yaml", "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\n");
    const cfg = await resolveConfig({ file });
    const none = await resolveConfig({});
    expect({ ...cfg, configFile: null }).toEqual(none);
  });

  it("names nodes like kind and taints control planes only when there are workers", async () => {
    const names = (c: ClusterConfig) => c.nodes.map((n) => `${n.name}/${n.role}/${n.taints.length}`);
    expect(names(await resolveConfig({ flags: { nodes: "3" } }))).toEqual([
      "kubeyard-control-plane/control-plane/1",
      "kubeyard-worker/worker/0",
      "kubeyard-worker2/worker/0",
    ]);
    expect(names(await resolveConfig({ flags: { controlPlanes: 3 } }))).toEqual([
      "kubeyard-control-plane/control-plane/0",
      "kubeyard-control-plane2/control-plane/0",
      "kubeyard-control-plane3/control-plane/0",
    ]);
    expect(names(await resolveConfig({ flags: { nodes: 4, controlPlanes: 2, profile: "x" } }))).toEqual([
      "x-control-plane/control-plane/1",
      "x-control-plane2/control-plane/1",
      "x-worker/worker/0",
      "x-worker2/worker/0",
    ]);
  });

  it("reads node counts in the file the way it reads the flags", async () => {
    const file = await configFile("counts.yaml", "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nnodes: 3\ncontrolPlanes: 2\n");
    const cfg = await resolveConfig({ file });
    expect(cfg.nodes.map((n) => n.name)).toEqual(["kubeyard-control-plane", "kubeyard-control-plane2", "kubeyard-worker"]);
    // --nodes keeps the file's control-plane count.
    const more = await resolveConfig({ file, flags: { nodes: 5 } });
    expect(more.nodes.map((n) => n.role)).toEqual(["control-plane", "control-plane", "worker", "worker", "worker"]);
  });

  it("puts control planes first whatever order the file lists them in", async () => {
    const file = await configFile(
      "order.yaml",
      "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: worker\n    labels: {n: one}\n  - role: control-plane\n",
    );
    const cfg = await resolveConfig({ file });
    expect(cfg.nodes.map((n) => [n.name, n.labels.n])).toEqual([
      ["kubeyard-control-plane", undefined],
      ["kubeyard-worker", "one"],
    ]);
  });
});

describe("resolveConfig with flags", () => {
  it("lets every flag override the file", async () => {
    const file = await configFile(
      "override.yaml",
      `apiVersion: kubeyard.dev/v1alpha1
kind: Cluster
name: fromfile
kubernetesVersion: v1.36
nodeImage: example.com/node:file
networking:
  podSubnet: 10.200.0.0/16
  serviceSubnet: 10.100.0.0/16
  apiServerAddress: 127.0.0.1
  apiServerPort: 6443
nodes:
  - role: control-plane
    labels: {kept: "yes"}
  - role: worker
    labels: {first: worker}
  - role: worker
    labels: {second: worker}
addons: [ingress]
`,
    );
    const cfg = await resolveConfig({
      file,
      flags: {
        profile: "fromflag",
        kubernetesVersion: "1.35",
        nodes: "2",
        apiServerPort: "7443",
        apiServerAddress: "127.0.0.2",
        nodeImage: "example.com/node:flag",
        addons: "registry,metrics-server",
        podSubnet: "10.10.0.0/16",
        serviceSubnet: "10.20.0.0/16",
      },
    });
    expect(cfg.name).toBe("fromflag");
    expect(cfg.kubernetesVersion).toBe(`v${findVersion("1.35")!.kubernetes}`);
    expect(cfg.nodeImage).toBe("example.com/node:flag");
    expect(cfg.networking).toMatchObject({
      podSubnet: "10.10.0.0/16",
      serviceSubnet: "10.20.0.0/16",
      dnsServiceIP: "10.20.0.10",
      apiServerAddress: "127.0.0.2",
      apiServerPort: 7443,
    });
    expect(cfg.addons).toEqual(["registry", "metrics-server"]);
    // --nodes 2 keeps the control plane and the first listed worker, with their settings.
    expect(cfg.nodes.map((n) => [n.name, n.labels])).toEqual([
      ["fromflag-control-plane", { kept: "yes", ...cpLabel }],
      ["fromflag-worker", { first: "worker" }],
    ]);
  });

  it("keeps file values the flags do not set", async () => {
    const file = await configFile(
      "partial.yaml",
      "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nname: keep\nnetworking: {apiServerPort: 6443}\n",
    );
    const cfg = await resolveConfig({ file, flags: { nodes: 2 } });
    expect(cfg.name).toBe("keep");
    expect(cfg.networking.apiServerPort).toBe(6443);
    expect(cfg.nodes.map((n) => n.name)).toEqual(["keep-control-plane", "keep-worker"]);
  });

  it("accepts repeated --addons and drops duplicates", async () => {
    const cfg = await resolveConfig({ flags: { addons: ["ingress", "registry,ingress"] }, knownAddons: ["ingress", "registry"] });
    expect(cfg.addons).toEqual(["ingress", "registry"]);
  });
});

describe("IPv6", () => {
  it("accepts an IPv6 service subnet and gives the pods an IPv6 default too", async () => {
    const cfg = await resolveConfig({ flags: { serviceSubnet: "fd00:10:96::/112" } });
    expect(cfg.networking).toMatchObject({
      ipFamily: "ipv6",
      podSubnet: "fd00:10:244::/56",
      serviceSubnet: "fd00:10:96::/112",
      dnsServiceIP: "fd00:10:96::a",
      kubernetesServiceIP: "fd00:10:96::1",
      nodeCidrMaskSize: 64,
    });
  });

  it("canonicalizes IPv6 ranges as Kubernetes prints them", async () => {
    const cfg = await resolveConfig({
      flags: { podSubnet: "FD00:0010:0244:0000::/56", serviceSubnet: "fd00:0:0:0:0:0:a:0/112", apiServerAddress: "::1" },
    });
    expect(cfg.networking.podSubnet).toBe("fd00:10:244::/56");
    expect(cfg.networking.serviceSubnet).toBe("fd00::a:0/112");
    expect(cfg.networking.dnsServiceIP).toBe("fd00::a:a");
    expect(cfg.networking.apiServerAddress).toBe("::1");
  });
});
