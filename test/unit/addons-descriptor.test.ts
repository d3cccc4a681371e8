import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddon, knownImageNames, listAddons } from "../../src/addons/index.js";
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
    expect(message).toContain('description: got "two\\nlines", want one non-empty line of text');
    expect(message).toContain('default: got "yes", want true or false');
    expect(message).toContain(`images[1]: got "nginx", want one of ${knownImageNames().join(", ")}`);
    expect(message).toContain("colour: is not a known field; known fields: name, description, default, alwaysOn, images, values, readiness");
    expect(message).toContain('values.replicas.type: got "integer", want one of string, int, bool');
    expect(message).toContain('values.mode.default: got "fast", want one of the enum values slow, safe');
  });

  it("wants a value's default to have its type, and an int's default within its bounds", async () => {
    const { message } = await loadError({
      "addon.yaml": `name: demo
description: d
default: true
values:
  replicas: {type: int, default: "1", description: n}
  size: {type: int, default: 0, min: 1, description: s}
  debug: {type: bool, default: 1, description: b}
`,
    });
    expect(message).toContain('values.replicas.default: got "1", want a value of type int');
    expect(message).toContain("values.size.default: got 0, want a value within 1..∞");
    expect(message).toContain("values.debug.default: got 1, want a value of type bool");
  });

  it("wants a format only on a string value, a known one, and a default of that format", async () => {
    const { message } = await loadError({
      "addon.yaml": `name: demo
description: d
default: true
values:
  zone: {type: string, default: Test, format: dns-subdomain, description: z}
  size: {type: int, default: 1, format: dns-subdomain, description: s}
  host: {type: string, default: x, format: hostname, description: h}
`,
    });
    expect(message).toContain('values.zone.default: got "Test", want a DNS-1123 subdomain');
    expect(message).toContain('values.size.format: got "dns-subdomain", want one of dns-subdomain, on a string value only');
    expect(message).toContain('values.host.format: got "hostname", want one of dns-subdomain, on a string value only');
  });

  it("checks DNS probes: a transport the port is published with, and no HTTP fields", async () => {
    const { message } = await loadError({
      "addon.yaml": `${GOOD}hostProbes:
  - {port: ingressDns, dns: quic}
  - {port: registry, dns: udp}
  - {port: ingressDns, dns: tcp, path: /}
`,
    });
    expect(message).toContain('hostProbes[0].dns: got "quic", want udp or tcp');
    expect(message).toContain('hostProbes[1].dns: got "udp", want a protocol port registry is published with: tcp');
    expect(message).toContain('hostProbes[2].path: got "path", want one of the fields port, dns (a DNS probe)');
    expect(message).not.toContain("hostProbes[2].dns");
  });

  it("checks manifest artifacts, kept kinds, host probes and node files, naming each bad field", async () => {
    const { message } = await loadError({
      "addon.yaml": `${GOOD}manifestArtifacts: [gateway-api, gateway-api-crds]
keepOnDisable: [Namespace]
hostProbes:
  - {port: http, path: v2, status: 700}
  - {port: registry, path: /v2/, method: HEAD}
nodeFiles:
  - {path: etc/x, content: 1}
`,
    });
    expect(message).toContain('manifestArtifacts[0]: got "gateway-api", want one of gateway-api-crds');
    expect(message).toContain('keepOnDisable[0]: got "Namespace", want one of CustomResourceDefinition');
    expect(message).toContain('hostProbes[0].port: got "http", want one of ingressHttp, ingressHttps, registry');
    expect(message).toContain('hostProbes[0].path: got "v2", want a URL path starting with /');
    expect(message).toContain("hostProbes[0].status: got 700, want an HTTP status from 100 to 599");
    expect(message).toContain('hostProbes[1].method: got "method", want one of the fields port, path, status');
    expect(message).toContain('nodeFiles[0].path: got "etc/x", want an absolute path inside the node');
    expect(message).toContain("nodeFiles[0].content: got 1, want text");
  });

  it("wants the name to be the folder's", async () => {
    const { message } = await loadError({ "addon.yaml": GOOD }, "other");
    expect(message).toContain('name: got "demo", want the name of the addon\'s folder, "other"');
  });

  it("refuses an alwaysOn addon that is not on by default", async () => {
    const { message } = await loadError({ "addon.yaml": GOOD.replace("default: false", "default: false\nalwaysOn: true") });
    expect(message).toContain("default: got false, want true: an alwaysOn addon is always enabled");
  });

  it("wants a namespace for a rollout check and an apiVersion for a kind the manifests do not hold", async () => {
    const rollout = await loadError({ "addon.yaml": GOOD.replace("{kind: Deployment, namespace: demo, name: demo}", "{kind: DaemonSet, name: demo}") });
    expect(rollout.message).toContain("readiness[0].namespace: got nothing, want the namespace of the DaemonSet");
    const other = await loadError({ "addon.yaml": GOOD.replace("{kind: Deployment, namespace: demo, name: demo}", "{kind: StorageClass, name: fast}") });
    expect(other.message).toContain("readiness[0].apiVersion: got nothing, want the apiVersion of StorageClass");
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
