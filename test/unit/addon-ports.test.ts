import dgram from "node:dgram";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addonPortMappings,
  chooseAddonPorts,
  chooseApiServerPort,
  describeAddonPorts,
  rechooseTakenPorts,
  refuseUnpublishablePorts,
} from "../../src/addons/host-ports.js";
import type { ClusterState } from "../../src/cluster/state.js";
import { resolveConfig } from "../../src/config/index.js";
import { UserError } from "../../src/util/errors.js";
import { holdPort, type HeldPort } from "../e2e/helpers/ports.js";

let dir: string;
let held: HeldPort;
const savedHome = process.env.KUBEYARD_HOME;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-addon-ports-"));
  // Other clusters' recorded ports count as taken: only the ones these tests write exist.
  process.env.KUBEYARD_HOME = path.join(dir, "home");
  held = await holdPort();
});
afterAll(async () => {
  await held.close();
  if (savedHome === undefined) delete process.env.KUBEYARD_HOME;
  else process.env.KUBEYARD_HOME = savedHome;
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
    expect((err as UserError).message).toBe(
      `port ${held.port} on 127.0.0.1 is already in use, so the registry addon's port cannot be published there.`,
    );
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

  it("keeps away from the ports another cluster recorded, even stopped: left out they go elsewhere, asked for they fail naming it", async () => {
    const profile = path.join(process.env.KUBEYARD_HOME!, "profiles", "other");
    const spare = await holdPort();
    await spare.close();
    const other = {
      name: "other",
      apiServerPort: 41000,
      addonPorts: { ingressHttp: 80, ingressHttps: 443, registry: spare.port, ingressDns: 1053 },
      phase: "ready",
    };
    await mkdir(profile, { recursive: true });
    await writeFile(path.join(profile, "cluster.json"), JSON.stringify(other));
    try {
      const ports = await chooseAddonPorts(await configWith("{}"), 0);
      for (const taken of Object.values(other.addonPorts)) expect(Object.values(ports)).not.toContain(taken);
      const err = await chooseAddonPorts(await configWith(`{registry: ${spare.port}}`), 0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toBe(
        `port ${spare.port} on 127.0.0.1 belongs to cluster "other" (stopped or running), so the registry addon's port cannot be published there.`,
      );
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  });

  it("a rootless engine that cannot publish ports below 1024 gets free ports for the ingress, not 80 and 443", async () => {
    const ports = await chooseAddonPorts(await configWith("{}"), 0, 1024);
    for (const p of Object.values(ports)) expect(p).toBeGreaterThanOrEqual(1024);
    expect([ports.ingressHttp, ports.ingressHttps]).not.toContain(80);
    expect([ports.ingressHttp, ports.ingressHttps]).not.toContain(443);
  });

  it("a port the config names below what the engine can publish is refused, naming it and the sysctl that allows it", async () => {
    const low = await configWith("{ingressHttp: 80}");
    expect(() => refuseUnpublishablePorts(low, 0)).not.toThrow();
    expect(() => refuseUnpublishablePorts(low, 1024)).toThrow(UserError);
    expect(() => refuseUnpublishablePorts(low, 1024)).toThrow(
      /port 80, for the ingress addon's HTTP port \(addonPorts.ingressHttp\), is below 1024/,
    );
    const err = (() => {
      try {
        refuseUnpublishablePorts(low, 1024);
      } catch (e) {
        return e as UserError;
      }
    })();
    expect(err?.hint).toContain("net.ipv4.ip_unprivileged_port_start=80");
    const unnamed = await configWith("{}");
    expect(() => refuseUnpublishablePorts(unnamed, 1024)).not.toThrow();
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
      expect((err as UserError).message).toBe(
        `port ${udp.port} on 127.0.0.1 is already in use, so the ingress-dns addon's DNS port cannot be published there.`,
      );
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

describe("the API server's host port", () => {
  async function configWithApiPort(port: number) {
    const file = path.join(dir, `a${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, `apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nnetworking: {apiServerPort: ${port}}\n`);
    return resolveConfig({ file });
  }

  it("asked for, must be free and no other cluster's, even a stopped one's: each fails with its reason before anything is made", async () => {
    const busy = await chooseApiServerPort(await configWithApiPort(held.port)).catch((e: unknown) => e);
    expect((busy as UserError).message).toBe(
      `port ${held.port} on 127.0.0.1 is already in use, so the API server cannot be published there.`,
    );

    const spare = await holdPort();
    await spare.close();
    const profile = path.join(process.env.KUBEYARD_HOME!, "profiles", "stopped");
    await mkdir(profile, { recursive: true });
    await writeFile(path.join(profile, "cluster.json"), JSON.stringify({ name: "stopped", apiServerPort: spare.port, phase: "ready" }));
    try {
      const owned = await chooseApiServerPort(await configWithApiPort(spare.port)).catch((e: unknown) => e);
      expect(owned).toBeInstanceOf(UserError);
      expect((owned as UserError).message).toBe(
        `port ${spare.port} belongs to cluster "stopped" (stopped or running), so the API server cannot be published there.`,
      );
      expect(await chooseApiServerPort(await configWithApiPort(0))).not.toBe(spare.port);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  });

  it("left open and taken by the time its container starts, is chosen again; asked for, it is not", async () => {
    const addonPorts = { ingressHttp: 0, ingressHttps: 0, registry: 0, ingressDns: 0 };
    const state = { apiServerPort: held.port, addonPorts } as unknown as ClusterState;
    const open = await rechooseTakenPorts(await configWithApiPort(0), state, { api: true, addons: false });
    expect(open?.apiServerPort).toBeGreaterThan(0);
    expect(open?.apiServerPort).not.toBe(held.port);
    expect(open?.addonPorts).toEqual(addonPorts);

    expect(await rechooseTakenPorts(await configWithApiPort(held.port), state, { api: true, addons: false })).toBeUndefined();
    // A container that does not publish the API server leaves its port alone.
    expect(await rechooseTakenPorts(await configWithApiPort(0), state, { api: false, addons: false })).toBeUndefined();
  });

  it("an addon port left open and taken meanwhile moves; the others stay", async () => {
    const spares = await Promise.all([0, 1, 2, 3].map(() => holdPort()));
    await Promise.all(spares.map((p) => p.close()));
    const [api, https, registry, dns] = spares.map((p) => p.port) as [number, number, number, number];
    const state = {
      apiServerPort: api,
      addonPorts: { ingressHttp: held.port, ingressHttps: https, registry, ingressDns: dns },
    } as unknown as ClusterState;
    const moved = await rechooseTakenPorts(await configWith("{}"), state, { api: false, addons: true });
    expect(moved?.apiServerPort).toBe(api);
    expect(moved?.addonPorts?.ingressHttp).not.toBe(held.port);
    expect([api, https, registry, dns]).not.toContain(moved?.addonPorts?.ingressHttp);
    expect(moved?.addonPorts).toMatchObject({ ingressHttps: https, registry, ingressDns: dns });
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
