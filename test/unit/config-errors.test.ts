import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { supportedVersionList } from "../../src/versions/versions.js";
import { ConfigError, resolveConfig, validateProfileName, type ConfigFlags } from "../../src/config/index.js";
import { UserError } from "../../src/util/errors.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-config-errors-"));
  await mkdir(path.join(dir, "exists"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEAD = "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\n";
let n = 0;

/** Writes `text` as a config file and returns the ConfigError resolving it throws. */
async function fileError(text: string, flags: ConfigFlags = {}): Promise<{ err: ConfigError; file: string }> {
  const file = path.join(dir, `c${++n}.yaml`);
  await writeFile(file, text);
  return { err: await rejection(resolveConfig({ file, flags })), file };
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect(err).toBeInstanceOf(UserError);
  return err as ConfigError;
}

/**
 * The message line for `field` says where (file:line:col or the flag), the field, the value and
 * what is allowed; returns the line for further checks.
 */
function expectReported(err: ConfigError, want: { where: string; field: string; value: string; allowed: string }): string {
  const line = err.message.split("\n").find((l) => l.includes(`${want.field}: `) && l.includes(want.where));
  expect(line, `no line for ${want.where} ${want.field} in:\n${err.message}`).toBeDefined();
  expect(line).toContain(`${want.where}${want.where.startsWith("--") ? "" : ":"}`);
  expect(line).toContain(want.value);
  expect(line!.slice(line!.indexOf("; allowed: ") + 2)).toContain(want.allowed);
  return line!;
}

describe("errors in the file name the file:line:col, the field, the value and what is allowed", () => {
  it("a role that does not exist", async () => {
    const { err, file } = await fileError(`${HEAD}nodes:\n  - role: control-plane\n  - role: master\n`);
    expectReported(err, { where: `${file}:5:11`, field: "nodes[1].role", value: '"master"', allowed: "control-plane, worker" });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ file, line: 5, col: 11, field: "nodes[1].role", value: '"master"' });
  });

  it("an unknown field, with the known ones", async () => {
    const { err, file } = await fileError(`${HEAD}name: dev\nnode: 3\n`);
    expectReported(err, {
      where: `${file}:4:1`,
      field: "node",
      value: '"node"',
      allowed: "apiVersion, kind, name, kubernetesVersion, containerRuntime, nodeImage, networking, nodes, controlPlanes",
    });
  });

  it("an unknown field inside a node, with the fields a node has", async () => {
    const { err, file } = await fileError(`${HEAD}nodes:\n  - role: worker\n    lables: {a: b}\n  - role: control-plane\n`);
    expectReported(err, {
      where: `${file}:5:5`,
      field: "nodes[0].lables",
      value: '"lables"',
      allowed: "role, image, labels, taints, extraPortMappings, extraMounts",
    });
  });

  it("an unknown component in extraArgs", async () => {
    const { err, file } = await fileError(`${HEAD}extraArgs:\n  apiserver: {v: 2}\n`);
    expectReported(err, {
      where: `${file}:4:3`,
      field: "extraArgs.apiserver",
      value: '"apiserver"',
      allowed: "etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy",
    });
  });

  it("an unsupported Kubernetes version lists the supported ones", async () => {
    const { err, file } = await fileError(`${HEAD}kubernetesVersion: 1.20\n`);
    expectReported(err, { where: `${file}:3:20`, field: "kubernetesVersion", value: '"1.20"', allowed: supportedVersionList() });
  });

  it("a missing or wrong apiVersion", async () => {
    const missing = await fileError("kind: Cluster\nname: dev\n");
    expectReported(missing.err, {
      where: `${missing.file}:1:1`,
      field: "apiVersion",
      value: "is missing",
      allowed: "kubeyard.dev/v1alpha1",
    });
    const wrong = await fileError("apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\n");
    expectReported(wrong.err, {
      where: `${wrong.file}:1:13`,
      field: "apiVersion",
      value: '"kind.x-k8s.io/v1alpha4"',
      allowed: "kubeyard.dev/v1alpha1",
    });
  });

  it("a value of the wrong type", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:\n  - role: control-plane\n    extraPortMappings: [{containerPort: 80, hostPort: "8080"}]\n`,
    );
    expectReported(err, {
      where: `${file}:5:55`,
      field: "nodes[0].extraPortMappings[0].hostPort",
      value: '"8080" is a string',
      allowed: "a port number from 0 to 65535",
    });
  });

  it("a port out of range", async () => {
    const { err, file } = await fileError(`${HEAD}networking:\n  apiServerPort: 65536\n`);
    expectReported(err, {
      where: `${file}:4:18`,
      field: "networking.apiServerPort",
      value: "65536",
      allowed: "a port number from 0 to 65535",
    });
  });

  it("an addon port out of range, an unknown addon port, and one that another mapping publishes", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:\n  - role: control-plane\n    extraPortMappings: [{containerPort: 80, hostPort: 8080}]\naddonPorts:\n  ingressHttp: 70000\n  registry: 8080\n  dns: 53\n`,
    );
    expectReported(err, {
      where: `${file}:7:16`,
      field: "addonPorts.ingressHttp",
      value: "70000",
      allowed: "a port number from 0 to 65535",
    });
    const line = expectReported(err, {
      where: `${file}:8:13`,
      field: "addonPorts.registry",
      value: "8080",
      allowed: "a host port no other mapping",
    });
    expect(line).toContain("nodes[0].extraPortMappings[0]");
    expectReported(err, { where: `${file}:9:3`, field: "addonPorts.dns", value: "dns", allowed: "ingressHttp" });
  });

  it("the DNS addon port clashes with a UDP mapping on its number; a TCP-only addon port does not", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:
  - role: control-plane
    extraPortMappings: [{containerPort: 53, hostPort: 5353, protocol: UDP}, {containerPort: 54, hostPort: 5400, protocol: UDP}]
addonPorts:
  ingressDns: 5353
  registry: 5400
`,
    );
    expectReported(err, {
      where: `${file}:7:15`,
      field: "addonPorts.ingressDns",
      value: "5353 is already published on 127.0.0.1 (UDP) by nodes[0].extraPortMappings[0]",
      allowed: "a host port no other mapping or the API server uses",
    });
    expect(err.issues).toHaveLength(1);
  });

  it("overlapping pod and service subnets", async () => {
    const { err, file } = await fileError(`${HEAD}networking:\n  podSubnet: 10.96.0.0/16\n  serviceSubnet: 10.96.0.0/12\n`);
    const line = expectReported(err, {
      where: `${file}:5:18`,
      field: "networking.serviceSubnet",
      value: '"10.96.0.0/12"',
      allowed: "a range that does not overlap 10.96.0.0/16",
    });
    expect(line).toContain("overlaps networking.podSubnet 10.96.0.0/16");
  });

  it("a service subnet that overlaps the default pod subnet", async () => {
    const { err, file } = await fileError(`${HEAD}networking:\n  serviceSubnet: 10.244.128.0/20\n`);
    expectReported(err, {
      where: `${file}:4:18`,
      field: "networking.serviceSubnet",
      value: '"10.244.128.0/20"',
      allowed: "a range that does not overlap 10.244.0.0/16",
    });
  });

  it("malformed and badly sized subnets", async () => {
    const { err, file } = await fileError(`${HEAD}networking:\n  podSubnet: 10.244.0.0\n  serviceSubnet: 10.96.0.1/12\n`);
    expectReported(err, {
      where: `${file}:4:14`,
      field: "networking.podSubnet",
      value: '"10.244.0.0" is not a CIDR range',
      allowed: "a CIDR range such as 10.244.0.0/16",
    });
    const hostBits = expectReported(err, {
      where: `${file}:5:18`,
      field: "networking.serviceSubnet",
      value: '"10.96.0.1/12"',
      allowed: "a CIDR range",
    });
    expect(hostBits).toContain("did you mean 10.96.0.0/12?");

    const sized = await fileError(`${HEAD}networking:\n  podSubnet: 10.0.0.0/26\n  serviceSubnet: 10.0.0.0/8\n`);
    expectReported(sized.err, {
      where: `${sized.file}:4:14`,
      field: "networking.podSubnet",
      value: '"10.0.0.0/26" is too small',
      allowed: "a prefix from /8 to /24",
    });
    expectReported(sized.err, {
      where: `${sized.file}:5:18`,
      field: "networking.serviceSubnet",
      value: '"10.0.0.0/8" is too large',
      allowed: "a prefix from /12 to /28",
    });
  });

  it("mixed address families and dual-stack are refused clearly", async () => {
    const { err, file } = await fileError(`${HEAD}networking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: fd00:10:96::/112\n`);
    expectReported(err, {
      where: `${file}:5:18`,
      field: "networking.serviceSubnet",
      value: '"fd00:10:96::/112" is IPv6 but networking.podSubnet 10.244.0.0/16 is IPv4',
      allowed: "an IPv4 range",
    });
    const dual = await fileError(`${HEAD}networking:\n  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n`);
    expectReported(dual.err, {
      where: `${dual.file}:4:14`,
      field: "networking.podSubnet",
      value: "dual-stack clusters are not supported",
      allowed: "one IPv4 or one IPv6 range",
    });
  });

  it("label keys and values, taint effects and repeated taints", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:
  - role: control-plane
    labels: {"-bad": ok, good: "no spaces"}
    taints:
      - {key: a, effect: NoSchedul}
      - {key: b, value: x, effect: NoExecute}
      - {key: b, value: y, effect: NoExecute}
`,
    );
    expectReported(err, {
      where: `${file}:5:14`,
      field: 'nodes[0].labels["-bad"]',
      value: '"-bad"',
      allowed: "starting and ending with a letter or digit",
    });
    expectReported(err, {
      where: `${file}:5:32`,
      field: "nodes[0].labels.good",
      value: '"no spaces"',
      allowed: "an empty string or at most 63",
    });
    expectReported(err, {
      where: `${file}:7:26`,
      field: "nodes[0].taints[0].effect",
      value: '"NoSchedul"',
      allowed: "NoSchedule, PreferNoSchedule, NoExecute",
    });
    expectReported(err, {
      where: `${file}:9:9`,
      field: "nodes[0].taints[2]",
      value: '"b:NoExecute" is given twice',
      allowed: "one taint per key and effect",
    });
    expect(err.issues).toHaveLength(4);
  });

  it("a host port two nodes publish", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:
  - role: control-plane
    extraPortMappings: [{containerPort: 80, hostPort: 8080}]
  - role: worker
    extraPortMappings: [{containerPort: 81, hostPort: 8080, listenAddress: 0.0.0.0}, {containerPort: 82, hostPort: 8080, protocol: UDP}]
`,
    );
    expectReported(err, {
      where: `${file}:7:55`,
      field: "nodes[1].extraPortMappings[0].hostPort",
      value: "8080 is already published on 127.0.0.1 (TCP) by nodes[0].extraPortMappings[0]",
      allowed: "a host port no other mapping or the API server uses",
    });
    // The same port over UDP does not clash.
    expect(err.issues).toHaveLength(1);
  });

  it("a host port the API server already uses", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:\n  - role: control-plane\n    extraPortMappings: [{containerPort: 6443, hostPort: 7443}]\n`,
      { apiServerPort: 7443 },
    );
    expectReported(err, {
      where: `${file}:5:57`,
      field: "nodes[0].extraPortMappings[0].hostPort",
      value: "7443 is already published on 127.0.0.1 (TCP) by the API server",
      allowed: "a host port no other mapping or the API server uses",
    });
  });

  it("a cluster without a control plane", async () => {
    const { err, file } = await fileError(`${HEAD}nodes:\n  - role: worker\n`);
    expectReported(err, {
      where: `${file}:4:3`,
      field: "nodes",
      value: "has no node with role control-plane",
      allowed: "at least one control-plane node",
    });
  });

  it("fewer nodes than control planes", async () => {
    const { err, file } = await fileError(`${HEAD}nodes: 2\ncontrolPlanes: 3\n`);
    expectReported(err, {
      where: `${file}:3:8`,
      field: "nodes",
      value: "2 is fewer than the 3 control planes of controlPlanes",
      allowed: "at least 3",
    });
    const mixed = await fileError(`${HEAD}nodes: [{role: control-plane}]\ncontrolPlanes: 1\n`);
    expectReported(mixed.err, {
      where: `${mixed.file}:4:1`,
      field: "controlPlanes",
      value: "1 cannot be combined with a list of nodes",
      allowed: "either a list of nodes",
    });
  });

  it("mounts whose host path is missing or whose container path is relative", async () => {
    const { err, file } = await fileError(
      `${HEAD}nodes:\n  - role: control-plane\n    extraMounts: [{hostPath: ./missing, containerPath: data}, {hostPath: ./exists, containerPath: /ok}]\n`,
    );
    const line = expectReported(err, {
      where: `${file}:5:30`,
      field: "nodes[0].extraMounts[0].hostPath",
      value: '"./missing" does not exist',
      allowed: "an existing file or folder on the host",
    });
    expect(line).toContain(path.join(dir, "missing"));
    expectReported(err, {
      where: `${file}:5:56`,
      field: "nodes[0].extraMounts[0].containerPath",
      value: '"data"',
      allowed: "an absolute path inside the node",
    });
    expect(err.issues).toHaveLength(2);
  });

  it("bad names: profile, node image, feature gate, extra flag, addon", async () => {
    const { err, file } = await fileError(
      `${HEAD}name: Dev
nodeImage: "Example.com/Node:v1"
featureGates: {some-gate: true}
extraArgs:
  kubelet: {"--v": "2"}
addons: [Ingress]
`,
    );
    expectReported(err, { where: `${file}:3:7`, field: "name", value: '"Dev" is not a DNS-1123 label', allowed: "a DNS-1123 label" });
    expectReported(err, { where: `${file}:4:12`, field: "nodeImage", value: '"Example.com/Node:v1"', allowed: "an image reference" });
    expectReported(err, { where: `${file}:5:16`, field: "featureGates.some-gate", value: '"some-gate"', allowed: "UpperCamelCase" });
    expectReported(err, {
      where: `${file}:7:13`,
      field: 'extraArgs.kubelet["--v"]',
      value: "\"--v\" starts with '-'",
      allowed: 'a flag name without the leading "--"',
    });
    expectReported(err, { where: `${file}:8:10`, field: "addons[0]", value: '"Ingress"', allowed: "a DNS-1123 label" });
  });

  it("an addon that does not exist, with the ones that do", async () => {
    const file = path.join(dir, "addons.yaml");
    await writeFile(file, `${HEAD}addons: [ingress, ingres]\n`);
    const err = await rejection(resolveConfig({ file, knownAddons: ["ingress", "registry"] }));
    expectReported(err, {
      where: `${file}:3:19`,
      field: "addons[1]",
      value: '"ingres" is not a known addon',
      allowed: "ingress, registry",
    });
  });

  it("broken YAML, with its position", async () => {
    const { err, file } = await fileError(`${HEAD}nodes:\n  - role: worker\n   bad: [\n`);
    expect(err.issues.length).toBeGreaterThan(0);
    expect(err.issues[0]!.file).toBe(file);
    expect(err.issues[0]!.line).toBeGreaterThanOrEqual(5);
    expect(err.message).toContain(`${file}:`);
    expect(err.message).toContain("YAML syntax error");
  });

  it("a duplicated key", async () => {
    const { err, file } = await fileError(`${HEAD}name: a\nname: b\n`);
    expect(err.message).toContain(`${file}:4:1`);
    expect(err.message).toContain("unique");
  });

  it("a file that does not exist", async () => {
    const file = path.join(dir, "nope.yaml");
    const err = await rejection(resolveConfig({ file }));
    expect(err.message).toContain(file);
    expect(err.message).toContain("does not exist");
  });

  it("reports several problems together, in file order", async () => {
    const { err, file } = await fileError(
      `${HEAD}name: Dev
kubernetesVersion: v1.99.0
networking:
  podSubnet: 10.96.0.0/16
nodes:
  - role: master
unknown: 1
`,
    );
    expect(err.issues.map((i) => [i.line, i.field])).toEqual([
      [3, "name"],
      [4, "kubernetesVersion"],
      [6, "networking.podSubnet"],
      [8, "nodes[0].role"],
      [9, "unknown"],
    ]);
    expect(err.message).toMatch(/^invalid cluster config \(5 problems\):\n/);
    expect(err.message).toContain(`${file}:9:1: unknown: "unknown" is not a known field`);
  });
});

describe("errors in flags name the flag, the value and what is allowed", () => {
  const cases: [ConfigFlags, string, string, string][] = [
    [{ nodes: "0" }, "--nodes", '"0"', "a node count of at least 1"],
    [{ nodes: "three" }, "--nodes", '"three"', "a node count of at least 1"],
    [{ controlPlanes: 0 }, "--control-planes", "0", "a control-plane count of at least 1"],
    [{ apiServerPort: "70000" }, "--apiserver-port", '"70000"', "a port number from 0 to 65535"],
    [{ apiServerAddress: "localhost" }, "--apiserver-address", '"localhost" is not an IP address', "an IPv4 or IPv6 address"],
    [{ kubernetesVersion: "1.20" }, "--kubernetes-version", '"1.20" is not a supported Kubernetes version', supportedVersionList()],
    [{ podSubnet: "10.244.0.0/33" }, "--pod-subnet", '"10.244.0.0/33"', "a CIDR range such as 10.244.0.0/16"],
    [{ serviceSubnet: "fd00::/64" }, "--service-subnet", '"fd00::/64" is too large', "a prefix from /108 to /124"],
    [{ profile: "a_b" }, "--profile", '"a_b"', "a DNS-1123 label"],
    [{ nodeImage: "bad image" }, "--node-image", '"bad image"', "an image reference"],
    [{ containerRuntime: "docker" }, "--container-runtime", '"docker"', "containerd, cri-o"],
    [{ nodes: 1, controlPlanes: 2 }, "--nodes", "1 is fewer than the 2 control planes of --control-planes", "at least 2"],
  ];
  for (const [flags, field, value, allowed] of cases) {
    it(`${field} ${JSON.stringify(flags)}`, async () => {
      const err = await rejection(resolveConfig({ flags }));
      expectReported(err, { where: field, field, value, allowed });
      expect(err.issues[0]!.file).toBeUndefined();
    });
  }

  it("blames the flag, not the file, for a value the flag set", async () => {
    const { err } = await fileError(`${HEAD}networking:\n  serviceSubnet: 10.100.0.0/16\n`, { podSubnet: "10.100.0.0/20" });
    expect(err.issues).toHaveLength(1);
    const line = expectReported(err, {
      where: "--pod-subnet",
      field: "--pod-subnet",
      value: '"10.100.0.0/20"',
      allowed: "a range that does not overlap 10.100.0.0/16",
    });
    expect(line).not.toContain(".yaml");
  });

  it("reports file and flag problems together, file first", async () => {
    const { err, file } = await fileError(`${HEAD}nodes:\n  - role: boss\n`, { nodes: "x", profile: "UP" });
    expect(err.issues.map((i) => i.field)).toEqual(["nodes[0].role", "--nodes", "--profile"]);
    expect(err.message).toContain(`${file}:4:11`);
  });
});

describe("profile names", () => {
  it.each([
    ["Dev", "is not a DNS-1123 label"],
    ["-x", "is not a DNS-1123 label"],
    ["a_b", "is not a DNS-1123 label"],
    ["a".repeat(64), "is 64 characters long"],
    ["", "is empty"],
  ])("refuses %j", (name, problem) => {
    let err: unknown;
    try {
      validateProfileName(name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain(`--profile: ${JSON.stringify(name)} ${problem}`);
    expect(msg).toContain(
      "allowed: a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
    );
  });

  it("names the field it was given", () => {
    expect(() => validateProfileName("X", "profile")).toThrow(/^invalid profile name: profile: "X"/);
  });

  it.each(["dev", "a", "a-1", "a".repeat(63)])("accepts %j", (name) => {
    expect(validateProfileName(name)).toBe(name);
  });

  it("refuses a valid profile name whose node names would not fit a hostname", async () => {
    const err = await rejection(resolveConfig({ flags: { profile: "a".repeat(50) } }));
    expectReported(err, {
      where: "--profile",
      field: "--profile",
      value: `"${"a".repeat(50)}" makes node names too long`,
      allowed: "a profile name of at most 49 characters for this cluster",
    });
    await expect(resolveConfig({ flags: { profile: "a".repeat(49) } })).resolves.toBeDefined();
  });
});
