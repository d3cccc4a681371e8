import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { httpGet } from "./helpers/http-get.js";
import { apply, rolledOut } from "./helpers/kubectl.js";
import { allAnswer, lbServices, serves, refused, udpAsk } from "./helpers/lb-services.js";
import { TunnelProcess } from "./helpers/tunnel-process.js";

/*
 * `kubeyard tunnel --mode proxy` as a user sees it: LoadBalancer Services get a loopback address
 * each, the host reaches their pods through the tunnel's listeners (TCP and UDP, spread over the
 * pods), the tunnel follows the cluster as it changes, one tunnel per cluster, and Ctrl-C or a
 * SIGKILL followed by a new tunnel leave no address behind. tunnel-route.test.ts covers the mode
 * where the nodes forward.
 */

const NS = "tun";
const { user, profile } = clusterForFile("e2e-tun", { namespaces: [NS] });
const { k, ingressOf, deployment, lbService, waitIngress, waitNoIngress, podNames, serviceMovedToPort8088 } = lbServices(user, profile, NS);
const PROXY = ["--mode", "proxy"];

describe("kubeyard tunnel", () => {
  let tunnel: TunnelProcess;
  let webIP = "";
  let pods: string[] = [];

  beforeAll(async () => {
    await apply(user, deployment("web", 3));
    await apply(
      user,
      lbService("web", "web", "", "[{name: http, port: 80, targetPort: 8080}, {name: udp, port: 8081, targetPort: 8081, protocol: UDP}]"),
    );
    await rolledOut(user, NS, "deployment/web");
    pods = await podNames("web");
    expect(pods).toHaveLength(3);
    expect(await ingressOf("web")).toBe(""); // <pending> without a tunnel
  }, 600_000);

  afterAll(async () => {
    if (tunnel && tunnel.proc.exitCode === null) await tunnel.stop("SIGINT");
  });

  it("gives the LoadBalancer Service an address the host reaches, answered by all three pods", async () => {
    tunnel = new TunnelProcess(user, profile, PROXY);
    webIP = await waitIngress("web");
    expect(webIP).toMatch(/^127\.100\.\d+\.\d+$/);
    expect(await allAnswer(`http://${webIP}:80`, pods)).toEqual(pods);
    // The table, in plain lines without a TTY: service, address, ports, ready backends.
    await tunnel.line(new RegExp(`^${NS}/web ${webIP.replace(/\./g, "\\.")} 80/TCP,8081/UDP backends=3$`));
    const svc = await k("get", "svc", "web", "-o", "wide");
    expect(svc).toContain(webIP);
  });

  it("forwards UDP", async () => {
    const name = await eventually("a UDP answer from the web Service", () => udpAsk(webIP, 8081, "hostname"), { timeoutMs: 60_000 });
    expect(pods).toContain(name.trim());
  });

  it("refuses a second tunnel on the same cluster, saying which one runs", async () => {
    const r = await user.kubeyard(["-p", profile, "tunnel"], { timeout: 60_000 });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain(`a tunnel for cluster "${profile}" is already running (pid ${tunnel.pid}`);
  });

  it("picks up a scaled backend, a new Service, a changed port and a deleted Service", async () => {
    await k("scale", "deployment/web", "--replicas=1");
    await tunnel.line(new RegExp(`^${NS}/web \\S+ 80/TCP,8081/UDP backends=1$`));

    const secondIP = await serviceMovedToPort8088("second", "web", webIP);
    await eventually(`${secondIP}:80 to refuse connections`, async () => expect(await refused(secondIP, 80)).toBe(true), {
      timeoutMs: 60_000,
    });

    await k("delete", "svc", "second");
    await tunnel.line(new RegExp(`^${NS}/second removed$`));
    await eventually(`${secondIP}:8088 to refuse connections`, async () => expect(await refused(secondIP, 8088)).toBe(true), {
      timeoutMs: 60_000,
    });
    await k("scale", "deployment/web", "--replicas=3");
    await rolledOut(user, NS, "deployment/web");
  });

  it("honours loadBalancerIP in its range and refuses one outside it", async () => {
    await apply(user, lbService("fixed", "web", "  loadBalancerIP: 127.100.9.9\n"));
    expect(await waitIngress("fixed")).toBe("127.100.9.9");
    await serves("http://127.100.9.9:80/hostname");

    await apply(user, lbService("outside", "web", "  loadBalancerIP: 10.9.9.9\n"));
    await tunnel.line(
      new RegExp(`^${NS}/outside <pending> - backends=\\d problem: spec.loadBalancerIP 10.9.9.9 is outside 127.100.0.0/16`),
    );
    expect(await ingressOf("outside")).toBe("");
    await k("delete", "svc", "outside");
  });

  it("shows a port it cannot listen on in the Service's status and its table, and serves it once it is free", async () => {
    const squatter = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => squatter.listen(8090, "127.100.9.20", () => resolve()));
    const portsOf = async () => (await k("get", "svc", "clash", "-o", "jsonpath={.status.loadBalancer.ingress[0].ports}")) || "[]";
    try {
      await apply(
        user,
        lbService(
          "clash",
          "web",
          "  loadBalancerIP: 127.100.9.20\n",
          "[{name: http, port: 80, targetPort: 8080}, {name: alt, port: 8090, targetPort: 8080}]",
        ),
      );
      expect(await waitIngress("clash")).toBe("127.100.9.20");
      await eventually(
        "the Service's status to show port 8090 in use",
        async () =>
          expect(JSON.parse(await portsOf())).toEqual([
            { port: 80, protocol: "TCP" },
            { port: 8090, protocol: "TCP", error: "kubeyard.dev/PortInUse" },
          ]),
        { timeoutMs: 60_000 },
      );
      await tunnel.line(
        new RegExp(
          `^${NS}/clash 127\\.100\\.9\\.20 80/TCP,8090/TCP backends=3 problem: 127\\.100\\.9\\.20:8090/TCP is in use by another program on this host$`,
        ),
      );
      // kube-proxy may not have programmed the new NodePort yet.
      await serves("http://127.100.9.20:80/hostname");
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    await eventually(
      "the Service's status to show port 8090 free",
      async () =>
        expect(JSON.parse(await portsOf())).toEqual([
          { port: 80, protocol: "TCP" },
          { port: 8090, protocol: "TCP" },
        ]),
      { timeoutMs: 60_000 },
    );
    await serves("http://127.100.9.20:8090/hostname");
    await tunnel.line(new RegExp(`^${NS}/clash 127\\.100\\.9\\.20 80/TCP,8090/TCP backends=3$`));
    await k("delete", "svc", "clash");
  });

  it("enforces loadBalancerSourceRanges on the client address", async () => {
    await apply(user, lbService("guarded", "web", "  loadBalancerSourceRanges: [127.0.0.9/32]\n"));
    const ip = await waitIngress("guarded");
    const get = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`http://${ip}:80/hostname`, { localAddress, agent: false, timeout: 10_000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject);
      });
    const inside = await eventually("127.0.0.9, inside loadBalancerSourceRanges, to be answered", () => get("127.0.0.9"), {
      timeoutMs: 60_000,
    });
    expect(inside).toBe(200);
    await expect(get("127.0.0.1")).rejects.toThrow(/ECONNRESET|socket hang up/);
    await k("delete", "svc", "guarded");
  });

  it("sends externalTrafficPolicy Local traffic to a node with a ready local endpoint", async () => {
    await apply(user, lbService("local", "web", "  externalTrafficPolicy: Local\n"));
    const ip = await waitIngress("local");
    pods = await podNames("web"); // the Deployment was scaled down and up again
    expect(await allAnswer(`http://${ip}:80`, pods)).toEqual(pods);
    await k("delete", "svc", "local");
  });

  it("prints the Service's URL with kubeyard service --url", async () => {
    const r = await user.kubeyard(["-p", profile, "service", "web", "-n", NS, "--url"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout).split("\n")).toEqual([`http://${webIP}:80`, `udp://${webIP}:8081`]);
    const missing = await user.kubeyard(["-p", profile, "service", "nope", "-n", NS, "--url"]);
    expect(missing.exitCode).toBe(1);
    expect(String(missing.stderr)).toContain(`service "nope" not found in namespace "${NS}"`);
  });

  it("holds a bounded load: thousands of requests on 100 connections, no errors, no leaked descriptors", async () => {
    const baseline = tunnel.openFds();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
    let errors = 0;
    let ok = 0;
    const one = () =>
      new Promise<void>((resolve) => {
        http
          .get(`http://${webIP}:80/hostname`, { agent, timeout: 30_000 }, (res) => {
            res.resume();
            res.on("end", () => {
              if (res.statusCode === 200) ok++;
              else errors++;
              resolve();
            });
          })
          .on("error", () => {
            errors++;
            resolve();
          });
      });
    const total = 3_000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < total) {
          next++;
          await one();
        }
      }),
    );
    expect({ ok, errors }).toEqual({ ok: total, errors: 0 });
    expect(tunnel.openFds()).toBeGreaterThan(baseline); // the kept-alive connections are open now
    agent.destroy();
    await eventually(`the tunnel's descriptors back near ${baseline}`, () => expect(tunnel.openFds()).toBeLessThanOrEqual(baseline + 5), {
      timeoutMs: 30_000,
    });
  });

  it("removes every address and closes every listener on Ctrl-C", async () => {
    expect(await tunnel.stop("SIGINT")).toBe(0);
    expect(tunnel.output()).toContain("tunnel stopped: listeners closed, addresses cleared");
    for (const svc of ["web", "fixed"]) expect(await ingressOf(svc)).toBe("");
    expect(await refused(webIP, 80)).toBe(true);
    expect(await refused("127.100.9.9", 80)).toBe(true);
    // Without a tunnel, kubeyard service falls back to the NodePort, which the host reaches as well.
    const r = await user.kubeyard(["-p", profile, "service", "web", "-n", NS, "--url"]);
    expect(String(r.stderr)).toContain("has no LoadBalancer address yet");
    const url = String(r.stdout).split("\n")[0]!;
    expect(url).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:3\d{4}$/);
    expect((await httpGet(`${url}/hostname`)).status).toBe(200);
  });

  it("after a SIGKILL, the next tunnel starts, takes over and clears the leftovers", async () => {
    const killed = new TunnelProcess(user, profile, PROXY);
    const ip = await waitIngress("web");
    await waitIngress("fixed");
    await killed.stop("SIGKILL");
    // The killed tunnel could not clear its addresses...
    expect(await ingressOf("web")).toBe(ip);
    expect(await ingressOf("fixed")).toBe("127.100.9.9");
    // ...and one of them now asks for an address the tunnel cannot give.
    await k("patch", "svc", "fixed", "-p", '{"spec":{"loadBalancerIP":"10.9.9.9"}}');

    tunnel = new TunnelProcess(user, profile, PROXY);
    await tunnel.line(new RegExp(`earlier tunnel \\(pid ${killed.pid}\\) did not stop cleanly`));
    await waitNoIngress("fixed");
    const again = await waitIngress("web");
    await serves(`http://${again}:80/hostname`);
    expect(await tunnel.stop("SIGINT")).toBe(0);
    expect(await ingressOf("web")).toBe("");
  });
});
