import dgram from "node:dgram";
import { once } from "node:events";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { parseCIDR, type CIDR } from "../../src/config/ip.js";
import { AddressPool, LOOPBACK_RANGE, networkRange } from "../../src/tunnel/address-range.js";
import type { EndpointSlice, Node, Service } from "../../src/tunnel/objects.js";
import { hasIngress, ingressFor } from "../../src/tunnel/ingress-status.js";
import { Listeners } from "../../src/tunnel/listeners.js";
import { planServices } from "../../src/tunnel/plan.js";
import { listenFailure } from "../../src/tunnel/port-errors.js";
import { privilegedPortProblem } from "../../src/tunnel/privileged-ports.js";
import { Route } from "../../src/tunnel/route.js";
import { serviceUrls } from "../../src/tunnel/service-url.js";
import { admits, parseSourceRanges } from "../../src/tunnel/source-ranges.js";
import { rowLines } from "../../src/tunnel/table.js";
import { TcpProxy } from "../../src/tunnel/tcp-proxy.js";
import { UdpProxy } from "../../src/tunnel/udp-proxy.js";
import { eventually } from "../helpers/poll.js";

function svc(name: string, spec: Partial<NonNullable<Service["spec"]>> = {}, ns = "default"): Service {
  return {
    metadata: { name, namespace: ns },
    spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }], ...spec },
  };
}

function node(name: string, ip: string, ready = true): Node {
  return {
    metadata: { name },
    status: { addresses: [{ type: "InternalIP", address: ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function slice(service: string, endpoints: { ip: string; node: string; ready?: boolean }[]): EndpointSlice {
  return {
    addressType: "IPv4",
    metadata: { name: `${service}-x`, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], nodeName: e.node, conditions: { ready: e.ready ?? true } })),
  };
}

const nodes = [node("cp", "172.30.0.2"), node("w1", "172.30.0.3"), node("w2", "172.30.0.4", false)];
const cidr = (t: string) => (parseCIDR(t) as { ok: true; cidr: CIDR }).cidr;

describe("tunnel plan", () => {
  it("gives each LoadBalancer Service its own address, kept across changes, and skips other types and classes", () => {
    const pool = new AddressPool();
    const services = [svc("b"), svc("a"), svc("np", { type: "NodePort" }), svc("other", { loadBalancerClass: "example.com/lb" })];
    const first = planServices(services, [], nodes, pool);
    expect(first.map((p) => [p.key, p.address])).toEqual([
      ["default/a", "127.100.0.1"],
      ["default/b", "127.100.0.2"],
    ]);
    const second = planServices([svc("b"), svc("c")], [], nodes, pool);
    expect(second.map((p) => [p.key, p.address])).toEqual([
      ["default/b", "127.100.0.2"],
      ["default/c", "127.100.0.1"],
    ]);
    pool.markBusy("127.100.0.1");
    expect(planServices([svc("b"), svc("c")], [], nodes, pool)[1]!.address).toBe("127.100.0.3");
  });

  it("targets ready nodes, only those with ready local endpoints under externalTrafficPolicy Local, and counts ready backends", () => {
    const slices = [
      slice("web", [
        { ip: "10.244.1.5", node: "w1" },
        { ip: "10.244.0.5", node: "cp", ready: false },
        { ip: "10.244.1.6", node: "w1" },
      ]),
    ];
    const [cluster] = planServices([svc("web")], slices, nodes, new AddressPool());
    expect(cluster!.targets).toEqual(["172.30.0.2", "172.30.0.3"]);
    expect(cluster!.readyBackends).toBe(2);
    const [local] = planServices([svc("web", { externalTrafficPolicy: "Local" })], slices, nodes, new AddressPool());
    expect(local!.targets).toEqual(["172.30.0.3"]);
  });

  it("honours spec.loadBalancerIP in the range, and refuses one outside it or taken by another Service", () => {
    const pool = new AddressPool();
    const plans = planServices(
      [
        svc("a"),
        svc("fixed", { loadBalancerIP: "127.100.0.1" }),
        svc("out", { loadBalancerIP: "10.1.2.3" }),
        svc("zz", { loadBalancerIP: "127.100.0.1" }),
      ],
      [],
      nodes,
      pool,
    );
    const by = new Map(plans.map((p) => [p.name, p]));
    expect(by.get("fixed")!.address).toBe("127.100.0.1");
    expect(by.get("fixed")!.requested).toBe(true);
    expect(by.get("a")!.address).toBe("127.100.0.2");
    expect(by.get("out")!.address).toBeUndefined();
    expect(by.get("out")!.problem).toMatch(/spec\.loadBalancerIP 10\.1\.2\.3 is outside 127\.100\.0\.0\/16/);
    expect(by.get("zz")!.address).toBeUndefined();
    expect(by.get("zz")!.problem).toMatch(/already the address of default\/fixed/);
  });

  it("refuses bad loadBalancerSourceRanges with the field and value, and forwards only TCP and UDP ports with a nodePort", () => {
    const [bad] = planServices([svc("a", { loadBalancerSourceRanges: ["10.0.0.1/8"] })], [], nodes, new AddressPool());
    expect(bad!.address).toBeUndefined();
    expect(bad!.problem).toMatch(/spec\.loadBalancerSourceRanges\[0\] "10\.0\.0\.1\/8" has host bits set/);
    const [mixed] = planServices(
      [
        svc("m", {
          ports: [
            { port: 53, protocol: "UDP", nodePort: 30053 },
            { port: 9, protocol: "SCTP", nodePort: 30009 },
            { port: 81, protocol: "TCP" },
          ],
        }),
      ],
      [],
      nodes,
      new AddressPool(),
    );
    expect(mixed!.ports).toEqual([{ port: 53, protocol: "UDP", nodePort: 30053 }]);
    expect(mixed!.problem).toMatch(/9\/SCTP is not forwarded.*81\/TCP has no nodePort/);
    // The status lists every port of the Service, each one not served with its reason.
    const failed = listenFailure("127.100.0.1", 53, "UDP", Object.assign(new Error("in use"), { code: "EADDRINUSE" }), {
      unprivilegedPortStart: 0,
      canBindAny: false,
    });
    expect(ingressFor({ ...mixed!, address: "127.100.0.1" }, [failed])).toEqual({
      ip: "127.100.0.1",
      ipMode: "Proxy",
      ports: [
        { port: 9, protocol: "SCTP", error: "kubeyard.dev/UnsupportedProtocol" },
        { port: 53, protocol: "UDP", error: "kubeyard.dev/PortInUse" },
        { port: 81, protocol: "TCP", error: "kubeyard.dev/NoNodePort" },
      ],
    });
  });
});

describe("tunnel status", () => {
  const served = {
    ...planServices(
      [
        svc("web", {
          ports: [
            { port: 80, protocol: "TCP", nodePort: 30080 },
            { port: 53, protocol: "UDP", nodePort: 30053 },
          ],
        }),
      ],
      [],
      nodes,
      new AddressPool(),
    )[0]!,
    address: "127.100.0.1",
  };

  it("says why a port cannot be listened on, as a reason for the status and words for the table", () => {
    const unprivileged = { unprivilegedPortStart: 1024, canBindAny: false };
    expect(listenFailure("127.100.0.1", 80, "TCP", undefined, unprivileged)).toMatchObject({
      error: "kubeyard.dev/PrivilegedPort",
      message: expect.stringMatching(/below net\.ipv4/),
    });
    const inUse = Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" });
    expect(listenFailure("127.100.0.1", 8080, "TCP", inUse, unprivileged)).toEqual({
      port: 8080,
      protocol: "TCP",
      error: "kubeyard.dev/PortInUse",
      message: "127.100.0.1:8080/TCP is in use by another program on this host",
    });
    const other = Object.assign(new Error("listen EADDRNOTAVAIL"), { code: "EADDRNOTAVAIL" });
    expect(listenFailure("127.100.0.1", 8080, "UDP", other, unprivileged).error).toBe("kubeyard.dev/ListenFailed");
  });

  it("knows when a Service's status already holds its ingress, whatever the order", () => {
    const want = ingressFor(served, []);
    expect(want.ports).toEqual([
      { port: 53, protocol: "UDP" },
      { port: 80, protocol: "TCP" },
    ]);
    const asStored = [
      {
        ipMode: "Proxy",
        ports: [
          { protocol: "TCP", port: 80 },
          { protocol: "UDP", port: 53 },
        ],
        ip: "127.100.0.1",
      },
    ];
    expect(hasIngress(asStored, want)).toBe(true);
    expect(hasIngress([{ ip: "127.100.0.1", ipMode: "Proxy" }], want)).toBe(false);
    expect(hasIngress(asStored, ingressFor(served, [{ port: 80, protocol: "TCP", error: "kubeyard.dev/PortInUse", message: "" }]))).toBe(
      false,
    );
    expect(hasIngress([...asStored, ...asStored], want)).toBe(false);
  });
});

describe("tunnel helpers", () => {
  it("knows its ranges: loopback, or the last quarter of the cluster's network", () => {
    expect(LOOPBACK_RANGE.contains("127.100.3.4")).toBe(true);
    expect(LOOPBACK_RANGE.contains("127.0.0.1")).toBe(false);
    expect(LOOPBACK_RANGE.contains("::1")).toBe(false);
    const net = networkRange("172.28.0.0/24");
    expect(net.text).toBe("172.28.0.192/26");
    expect([net.contains("172.28.0.193"), net.contains("172.28.0.2"), net.contains("172.28.1.193")]).toEqual([true, false, false]);
    const pool = new AddressPool(net);
    expect(pool.assign("a", new Set())).toBe("172.28.0.193");
    expect(pool.assign("b", new Set(["172.28.0.194"]))).toBe("172.28.0.195");
    expect(net.usable).toBe(62);
    expect(() => networkRange("172.28.0.0/29")).toThrow(/16 addresses or more/);
  });

  it("gives a Service back the address an earlier tunnel gave it, unless another holds it", () => {
    const pool = new AddressPool();
    pool.adopt("ns/b", "127.100.0.7");
    pool.adopt("ns/c", "127.100.0.7");
    pool.adopt("ns/d", "10.0.0.1");
    expect(pool.assign("ns/a", new Set())).toBe("127.100.0.1");
    expect(pool.assign("ns/b", new Set())).toBe("127.100.0.7");
    expect(pool.assign("ns/c", new Set())).toBe("127.100.0.2");
    expect(pool.assign("ns/d", new Set())).toBe("127.100.0.3");
  });

  it("admits clients by loadBalancerSourceRanges, IPv4-mapped addresses included", () => {
    const r = parseSourceRanges(["127.0.0.1/32", "192.168.0.0/16"]);
    expect(r.ok).toBe(true);
    const ranges = (r as { ranges: CIDR[] }).ranges;
    expect(admits(ranges, "127.0.0.1")).toBe(true);
    expect(admits(ranges, "::ffff:192.168.4.4")).toBe(true);
    expect(admits(ranges, "127.0.0.2")).toBe(false);
    expect(admits([], "8.8.8.8")).toBe(true);
  });

  it("says how to allow a privileged port", () => {
    expect(privilegedPortProblem(80, { unprivilegedPortStart: 1024, canBindAny: true })).toBeUndefined();
    expect(privilegedPortProblem(8080, { unprivilegedPortStart: 1024, canBindAny: false })).toBeUndefined();
    expect(privilegedPortProblem(80, { unprivilegedPortStart: 1024, canBindAny: false })).toMatch(
      /ip_unprivileged_port_start \(1024\).*sysctl -w net\.ipv4\.ip_unprivileged_port_start=80.*setcap cap_net_bind_service/,
    );
  });

  it("prints plain lines for what changed", () => {
    const a = { service: "default/a", address: "127.100.0.1", ports: "80/TCP", backends: 1, problem: "" };
    const b = { service: "default/b", address: "<pending>", ports: "-", backends: 0, problem: "no" };
    expect(rowLines([], [a, b])).toEqual(["default/a 127.100.0.1 80/TCP backends=1", "default/b <pending> - backends=0 problem: no"]);
    expect(rowLines([a, b], [{ ...a, backends: 3 }])).toEqual(["default/a 127.100.0.1 80/TCP backends=3", "default/b removed"]);
  });

  it("gives a Service's URLs: its LoadBalancer address, else a node's NodePort; ClusterIP is refused", () => {
    const lb = svc("web", {
      ports: [
        { port: 80, nodePort: 30080 },
        { name: "https", port: 8443, nodePort: 30443 },
      ],
    });
    expect(serviceUrls(lb, nodes)).toMatchObject({
      urls: ["http://172.30.0.2:30080", "https://172.30.0.2:30443"],
      note: expect.stringMatching(/kubeyard tunnel/),
    });
    lb.status = { loadBalancer: { ingress: [{ ip: "127.100.0.4" }] } };
    expect(serviceUrls(lb, nodes)).toEqual({ urls: ["http://127.100.0.4:80", "https://127.100.0.4:8443"] });
    expect(() => serviceUrls(svc("c", { type: "ClusterIP" }), nodes)).toThrow(/of type ClusterIP/);
  });
});

/** Whether something accepts TCP connections on host:port. */
async function connects(host: string, port: number): Promise<boolean> {
  const c = net.connect({ host, port });
  try {
    await once(c, "connect");
    return true;
  } catch {
    return false;
  } finally {
    c.destroy();
  }
}

describe("tunnel proxies (real sockets on loopback)", () => {
  it("joins TCP connections to the targets in turn and refuses clients outside the source ranges", async () => {
    const servers = await Promise.all(
      ["a", "b"].map(
        (tag) =>
          new Promise<net.Server>((resolve) => {
            const s = net.createServer((c) => c.on("data", (d) => c.end(`${tag}:${d}`)));
            s.listen(0, "127.0.0.1", () => resolve(s));
          }),
      ),
    );
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
    const route = new Route();
    route.update(["127.0.0.1"], ports[0]!, []);
    const proxy = await TcpProxy.listen("127.100.250.1", 40781, route);
    const ask = (from?: string) =>
      new Promise<string>((resolve, reject) => {
        const c = net.connect({ host: "127.100.250.1", port: 40781, localAddress: from });
        let got = "";
        c.on("data", (d) => (got += d));
        c.on("error", reject);
        c.on("close", () => resolve(got));
        c.end("hi");
      });
    try {
      expect(await ask()).toBe("a:hi");
      route.update(["127.0.0.1"], ports[1]!, [cidr("127.0.0.9/32")]);
      await expect(ask("127.0.0.1")).rejects.toThrow(/ECONNRESET/);
      expect(await ask("127.0.0.9")).toBe("b:hi");
      await eventually("the proxy to count its closed connections", () => expect(proxy.connections).toBe(0), {
        timeoutMs: 1_000,
        intervalMs: 10,
      });
    } finally {
      await proxy.close();
      for (const s of servers) s.close();
    }
  });

  it("listens on every planned port it can, says which it cannot, and moves an automatic address that is taken", async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(40783, "127.100.250.3", () => r()));
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(40785, "127.100.0.1", () => r()));
    const pool = new AddressPool();
    const ports = (...ps: number[]) => ({ ports: ps.map((port) => ({ port, protocol: "TCP", nodePort: 30000 + (port % 1000) })) });
    const services = [svc("fixed", { loadBalancerIP: "127.100.250.3", ...ports(40783, 40784) }), svc("auto", ports(40785))];
    const listeners = new Listeners(pool, () => ({ unprivilegedPortStart: 0, canBindAny: false }));
    try {
      const first = await listeners.sync(planServices(services, [], nodes, pool));
      expect(first.failures.get("default/fixed")!.map((f) => [f.port, f.error])).toEqual([[40783, "kubeyard.dev/PortInUse"]]);
      expect(await connects("127.100.250.3", 40784)).toBe(true);
      expect([...first.moved]).toEqual(["default/auto"]);
      const again = planServices(services, [], nodes, pool);
      expect(again.find((p) => p.name === "auto")!.address).toBe("127.100.0.2");
      await new Promise<void>((r) => squatter.close(() => r()));
      const second = await listeners.sync(again);
      expect(second).toEqual({ failures: new Map(), moved: new Set() });
      expect(await connects("127.100.250.3", 40783)).toBe(true);
      expect(await connects("127.100.0.2", 40785)).toBe(true);
    } finally {
      await listeners.closeAll();
      squatter.close();
      taken.close();
    }
  });

  it("forwards UDP datagrams and brings the answers back", async () => {
    const echo = dgram.createSocket("udp4");
    await new Promise<void>((r) => echo.bind(0, "127.0.0.1", () => r()));
    echo.on("message", (m, r) => echo.send(`pong:${m}`, r.port, r.address));
    const route = new Route();
    route.update(["127.0.0.1"], echo.address().port, []);
    const proxy = await UdpProxy.listen("127.100.250.2", 40782, route);
    const client = dgram.createSocket("udp4");
    try {
      const answer = new Promise<string>((resolve) => client.once("message", (m) => resolve(String(m))));
      client.send("ping", 40782, "127.100.250.2");
      expect(await answer).toBe("pong:ping");
    } finally {
      client.close();
      await proxy.close();
      echo.close();
    }
  });
});
