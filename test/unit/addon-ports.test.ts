import dgram from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addonPortMappings, chooseAddonPorts, describeAddonPorts } from "../../src/cluster/addon-ports.js";
import { resolveConfig } from "../../src/config/index.js";
import { UserError } from "../../src/util/errors.js";
import { holdPort, type HeldPort } from "../e2e/helpers/ports.js";

let dir: string;
let held: HeldPort;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-addon-ports-"));
  held = await holdPort();
});
afterAll(async () => {
  await held.close();
  await rm(dir, { recursive: true, force: true });
});

async function configWith(addonPorts: string) {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\naddonPorts: ${addonPorts}\n`);
  return resolveConfig({ file });
}

describe("addon host ports chosen at start", () => {
  it("a port the config sets that something holds fails naming the field, before anything is made", async () => {
    const config = await configWith(`{registry: ${held.port}}`);
    const err = await chooseAddonPorts(config, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(`port ${held.port} on 127.0.0.1 is already in use, so the registry addon's port cannot be published there.`);
    expect((err as UserError).hint).toContain("addonPorts.registry");
  });

  it("0 and left-out ports get free ones, never the API server's, each different", async () => {
    const config = await configWith("{ingressHttp: 0, ingressHttps: 0, ingressDns: 0}");
    const ports = await chooseAddonPorts(config, held.port);
    const all = Object.values(ports);
    expect(new Set(all).size).toBe(4);
    expect(all).not.toContain(held.port);
    for (const p of all) expect(p).toBeGreaterThan(0);
    expect(addonPortMappings(ports).map((m) => `${m.listenAddress}:${m.hostPort}->${m.containerPort}/${m.protocol}`)).toEqual([
      `127.0.0.1:${ports.ingressHttp}->80/TCP`,
      `127.0.0.1:${ports.ingressHttps}->443/TCP`,
      `127.0.0.1:${ports.registry}->5000/TCP`,
      `127.0.0.1:${ports.ingressDns}->1053/UDP`,
      `127.0.0.1:${ports.ingressDns}->1053/TCP`,
    ]);
    expect(describeAddonPorts(ports)).toBe(
      `ingress http 127.0.0.1:${ports.ingressHttp}, ingress https 127.0.0.1:${ports.ingressHttps}, registry 127.0.0.1:${ports.registry}, ` +
        `ingress dns 127.0.0.1:${ports.ingressDns} (UDP and TCP)`,
    );
  });

  it("a port the config sets and that is free is the one used", async () => {
    const free = await holdPort();
    await free.close();
    const ports = await chooseAddonPorts(await configWith(`{ingressHttp: ${free.port}}`), 0);
    expect(ports.ingressHttp).toBe(free.port);
  });

  it("the DNS port must be free in UDP too: one another program holds only in UDP fails naming the field", async () => {
    const udp = await holdUdpPort();
    try {
      const err = await chooseAddonPorts(await configWith(`{ingressDns: ${udp.port}}`), 0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toBe(`port ${udp.port} on 127.0.0.1 is already in use, so the ingress-dns addon's DNS port cannot be published there.`);
      expect((err as UserError).hint).toContain("addonPorts.ingressDns");
      // The same number is fine for a TCP-only port.
      expect((await chooseAddonPorts(await configWith(`{registry: ${udp.port}}`), 0)).registry).toBe(udp.port);
    } finally {
      await udp.close();
    }
  });

  it("a described cluster made before a port existed leaves that port out", () => {
    expect(describeAddonPorts({ ingressHttp: 80, ingressHttps: 443, registry: 5000 })).toBe(
      "ingress http 127.0.0.1:80, ingress https 127.0.0.1:443, registry 127.0.0.1:5000",
    );
  });
});

/** A UDP port held on 127.0.0.1, as a DNS server on the host would hold it. */
function holdUdpPort(): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", reject);
    socket.bind({ address: "127.0.0.1", port: 0, exclusive: true }, () => {
      resolve({ port: socket.address().port, close: () => new Promise<void>((done) => socket.close(() => done())) });
    });
  });
}
