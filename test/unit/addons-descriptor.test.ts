import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddon, knownImageNames, listAddons } from "../../src/addons/index.js";
import { ConfigError } from "../../src/config/index.js";
import { UserError } from "../../src/util/errors.js";

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kubeyard-addon-descriptors-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const GOOD = `name: demo
description: A demo addon
default: false
images: [busybox]
values:
  replicas: {type: int, default: 1, min: 1, description: How many}
readiness:
  - {kind: Deployment, namespace: demo, name: demo}
`;

/** A fresh addons folder holding one addon `demo` with these files. */
async function addonsWith(files: Record<string, string>, folder = "demo"): Promise<{ dir: string; descriptor: string }> {
  const dir = path.join(root, `set${++n}`);
  await mkdir(path.join(dir, folder), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, folder, name), text);
  return { dir, descriptor: path.join(dir, folder, "addon.yaml") };
}

async function loadError(files: Record<string, string>, folder?: string): Promise<{ message: string; descriptor: string }> {
  const { dir, descriptor } = await addonsWith(files, folder);
  const error = await listAddons(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return { message: (error as Error).message, descriptor };
}

describe("addon descriptors", () => {
  it("a good descriptor loads with its manifests", async () => {
    const { dir } = await addonsWith({
      "addon.yaml": GOOD,
      "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: demo}\n",
      "a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n---\n",
    });
    const [addon] = await listAddons(dir);
    expect(addon).toMatchObject({
      name: "demo",
      description: "A demo addon",
      default: false,
      alwaysOn: false,
      images: ["busybox"],
      values: { replicas: { type: "int", default: 1, min: 1, description: "How many" } },
      readiness: [{ kind: "Deployment", namespace: "demo", name: "demo" }],
    });
    // Files in name order; the empty document after "---" is not an object.
    expect(addon!.manifests.map((m) => path.basename(m.file))).toEqual(["a.yaml", "b.yaml"]);
    expect(addon!.manifests[0]!.documents).toHaveLength(1);
  });

  it("names the file and every bad field, with what it holds and what is accepted", async () => {
    const { message, descriptor } = await loadError({
      "addon.yaml": `name: demo
description: "two\\nlines"
default: "yes"
images: [coredns, nginx]
colour: blue
values:
  replicas: {type: integer, default: 1, description: n}
  mode: {type: string, default: fast, enum: [slow, safe], description: m}
`,
    });
    expect(message).toContain(`${descriptor} is not a valid addon descriptor`);
    expect(message).toContain(`${descriptor}:2:14: description: "two\\nlines" is not allowed; allowed: one non-empty line of text`);
    expect(message).toContain(`${descriptor}:3:10: default: "yes" is a string; allowed: true or false`);
    expect(message).toContain(`${descriptor}:4:19: images[1]: "nginx" is not allowed; allowed: ${knownImageNames().join(", ")}`);
    expect(message).toContain(
      `${descriptor}:5:1: colour: "colour" is not a known field; allowed: name, description, default, alwaysOn, images, values, readiness`,
    );
    expect(message).toContain(`${descriptor}:7:20: values.replicas.type: "integer" is not allowed; allowed: string, int, bool`);
    expect(message).toContain(`${descriptor}:8:33: values.mode.default: "fast" is not allowed; allowed: one of the enum values slow, safe`);
  });

  it("wants a value's default to have its type, and an int's default within its bounds", async () => {
    const { message, descriptor } = await loadError({
      "addon.yaml": `name: demo
description: d
default: true
values:
  replicas: {type: int, default: "1", description: n}
  size: {type: int, default: 0, min: 1, description: s}
  debug: {type: bool, default: 1, description: b}
`,
    });
    expect(message).toContain(`${descriptor}:5:34: values.replicas.default: "1" is a string; allowed: a value of type int`);
    expect(message).toContain(`${descriptor}:6:30: values.size.default: 0 is out of range; allowed: a value within 1..∞`);
    expect(message).toContain(`${descriptor}:7:32: values.debug.default: 1 is an integer; allowed: a value of type bool`);
  });

  it("wants a format only on a string value, a known one, and a default of that format", async () => {
    const { message, descriptor } = await loadError({
      "addon.yaml": `name: demo
description: d
default: true
values:
  zone: {type: string, default: Test, format: dns-subdomain, description: z}
  size: {type: int, default: 1, format: dns-subdomain, description: s}
  host: {type: string, default: x, format: hostname, description: h}
`,
    });
    expect(message).toContain(`${descriptor}:5:33: values.zone.default: "Test" is not a DNS-1123 subdomain; allowed: a DNS-1123 subdomain`);
    expect(message).toContain(
      `${descriptor}:6:41: values.size.format: "dns-subdomain" is not allowed; allowed: one of dns-subdomain, on a string value only`,
    );
    expect(message).toContain(
      `${descriptor}:7:44: values.host.format: "hostname" is not allowed; allowed: one of dns-subdomain, on a string value only`,
    );
  });

  it("checks DNS probes: a transport the port is published with, and no HTTP fields", async () => {
    const { message, descriptor } = await loadError({
      "addon.yaml": `${GOOD}hostProbes:
  - {port: ingressDns, dns: quic}
  - {port: registry, dns: udp}
  - {port: ingressDns, dns: tcp, path: /}
`,
    });
    expect(message).toContain(`${descriptor}:10:29: hostProbes[0].dns: "quic" is not allowed; allowed: udp or tcp`);
    expect(message).toContain(
      `${descriptor}:11:27: hostProbes[1].dns: "udp" is not allowed; allowed: a protocol port registry is published with: tcp`,
    );
    expect(message).toContain(`${descriptor}:12:34: hostProbes[2].path: "path" is not a known field of a DNS probe; allowed: port, dns`);
    expect(message).not.toContain("hostProbes[2].dns");
  });

  it("checks manifest artifacts, kept kinds, host probes and node files, naming each bad field", async () => {
    const { message, descriptor } = await loadError({
      "addon.yaml": `${GOOD}manifestArtifacts: [gateway-api, gateway-api-crds]
keepOnDisable: [Namespace]
hostProbes:
  - {port: http, path: v2, status: 700}
  - {port: registry, path: /v2/, method: HEAD}
nodeFiles:
  - {path: etc/x, content: 1}
`,
    });
    const at = (line: number, col: number) => `${descriptor}:${line}:${col}: `;
    expect(message).toContain(`${at(9, 21)}manifestArtifacts[0]: "gateway-api" is not allowed; allowed: gateway-api-crds`);
    expect(message).toContain(`${at(10, 17)}keepOnDisable[0]: "Namespace" is not allowed; allowed: CustomResourceDefinition`);
    expect(message).toContain(`${at(12, 12)}hostProbes[0].port: "http" is not allowed; allowed: ingressHttp, ingressHttps, registry`);
    expect(message).toContain(`${at(12, 24)}hostProbes[0].path: "v2" is not allowed; allowed: a URL path starting with /`);
    expect(message).toContain(`${at(12, 36)}hostProbes[0].status: 700 is out of range; allowed: an HTTP status from 100 to 599`);
    expect(message).toContain(
      `${at(13, 34)}hostProbes[1].method: "method" is not a known field of an HTTP probe; allowed: port, path, status`,
    );
    expect(message).toContain(`${at(15, 12)}nodeFiles[0].path: "etc/x" is not allowed; allowed: an absolute path inside the node`);
    expect(message).toContain(`${at(15, 28)}nodeFiles[0].content: 1 is an integer; allowed: text`);
  });

  it("wants the name to be the folder's", async () => {
    const { message, descriptor } = await loadError({ "addon.yaml": GOOD }, "other");
    expect(message).toContain(`${descriptor}:1:7: name: "demo" is not the folder's name; allowed: the name of the addon's folder, "other"`);
  });

  it("refuses an alwaysOn addon that is not on by default", async () => {
    const { message, descriptor } = await loadError({ "addon.yaml": GOOD.replace("default: false", "default: false\nalwaysOn: true") });
    expect(message).toContain(`${descriptor}:3:10: default: false is not allowed; allowed: true: an alwaysOn addon is always enabled`);
  });

  it("wants a namespace for a rollout check and an apiVersion for a kind the manifests do not hold", async () => {
    const rollout = await loadError({
      "addon.yaml": GOOD.replace("{kind: Deployment, namespace: demo, name: demo}", "{kind: DaemonSet, name: demo}"),
    });
    expect(rollout.message).toContain(
      `${rollout.descriptor}:8:5: readiness[0].namespace: is missing; allowed: the namespace of the DaemonSet`,
    );
    const other = await loadError({
      "addon.yaml": GOOD.replace("{kind: Deployment, namespace: demo, name: demo}", "{kind: StorageClass, name: fast}"),
    });
    expect(other.message).toContain(
      `${other.descriptor}:8:5: readiness[0].apiVersion: is missing; allowed: the apiVersion of StorageClass`,
    );
  });

  it("places every problem at its file, line and column, as the cluster config's are placed", async () => {
    const { dir, descriptor } = await addonsWith({
      "addon.yaml": `${GOOD}nodeFiles:\n  - path: /etc/x\n    content: |\n      a\n    mode: 0644\n`,
    });
    const error = await listAddons(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        file: descriptor,
        line: 13,
        col: 5,
        field: "nodeFiles[0].mode",
        value: '"mode"',
        problem: "is not a known field of a node file",
        allowed: "path, content, runtime",
      },
    ]);
    expect((error as ConfigError).message).toContain(`${descriptor}:13:5: nodeFiles[0].mode: "mode" is not a known field`);

    const syntax = await loadError({ "addon.yaml": "name: demo\ndescription: d\ndefault: false\nimages: [busybox\n" });
    // The unclosed list runs to the end of the file, where the parser gives up.
    expect(syntax.message).toContain(`${syntax.descriptor}:5:1: YAML syntax error`);
  });

  it("reports a YAML syntax error, a missing descriptor and a manifest that is not an object, by file", async () => {
    const syntax = await loadError({ "addon.yaml": "name: [demo\n" });
    expect(syntax.message).toContain(`${syntax.descriptor} is not a valid addon descriptor`);
    expect(syntax.message).toContain("YAML syntax error");

    const missing = await loadError({ "x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" });
    expect(missing.message).toContain(`${missing.descriptor} is not a valid addon descriptor`);
    expect(missing.message).toContain("every folder under addons/ needs an addon.yaml");

    const { dir } = await addonsWith({ "addon.yaml": GOOD, "m.yaml": "apiVersion: v1\nkind: ConfigMap\n---\n- a list\n" });
    await expect(listAddons(dir)).rejects.toThrow(`${path.join(dir, "demo", "m.yaml")}: document 1 is not a Kubernetes object`);
  });

  it("an unknown addon name fails listing the known ones", async () => {
    const error = await getAddon("ingres").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('unknown addon "ingres"');
    expect((error as UserError).hint).toContain("coredns");
    expect((error as UserError).hint).toContain("storage-provisioner");
    expect((error as UserError).hint).toContain("default-storageclass");
  });
});
