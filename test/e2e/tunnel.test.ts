import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestImage } from "../../src/artifacts/test-images.js";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "./helpers/eventually.js";
import { httpGet } from "./helpers/http-get.js";
import { apply, kubectlOk, rolledOut } from "./helpers/kubectl.js";
import { pollUntil } from "./helpers/poll.js";
import { TunnelProcess } from "./helpers/tunnel-process.js";

/*
 * `kubeyard tunnel` as a user sees it: LoadBalancer Services get a loopback address each, the host
 * reaches their pods through it (TCP and UDP, spread over the pods), the tunnel follows the cluster
 * as it changes, one tunnel per cluster, and Ctrl-C or a SIGKILL followed by a new tunnel leave no
 * address behind. The backend is agnhost netexec: it answers /hostname (and UDP "hostname") with
 * its pod's name, over keep-alive connections.
 */

const NS = "tun";
const { user, profile } = clusterForFile("e2e-tun", { namespaces: [NS] });
let image = "";

beforeAll(async () => {
  image = await ensureTestImage(new Docker(), "agnhost");
  const r = await user.kubeyard(["-p", profile, "image", "load", image]);
  if (r.exitCode !== 0) throw new Error(`image load failed:\n${String(r.all)}`);
}, 1_800_000);

const k = (...args: string[]) => kubectlOk(user, "-n", NS, ...args);

function deployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${NS}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: netexec
          image: ${image}
          imagePullPolicy: Never
          args: [netexec, --http-port=8080, --udp-port=8081]
          readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
`;
}

function lbService(name: string, app: string, extra = "", ports = "[{name: http, port: 80, targetPort: 8080}]"): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec:
  type: LoadBalancer
  selector: {app: ${app}}
  ports: ${ports}
${extra}`;
}

/** The Service's status.loadBalancer.ingress addresses, space-separated ("" while pending). */
const ingressOf = async (svc: string) => (await k("get", "svc", svc, "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")).trim();

async function waitIngress(svc: string): Promise<string> {
  return pollUntil(`an EXTERNAL-IP on service ${svc}`, async () => (await ingressOf(svc)) || undefined, { timeoutMs: 60_000 });
}

async function waitNoIngress(svc: string): Promise<void> {
  await pollUntil(`service ${svc} without an EXTERNAL-IP`, async () => ((await ingressOf(svc)) === "" ? true : undefined), { timeoutMs: 60_000 });
}

/** Whether a TCP connection to address:port is refused (nothing listens there). */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

function udpAsk(host: string, port: number, text: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once("message", (m) => {
      clearTimeout(timer);
      s.close();
      resolve(String(m));
    });
    s.send(text, port, host);
  });
}

async function podNames(app: string): Promise<string[]> {
  return (await k("get", "pods", "-l", `app=${app}`, "-o", "jsonpath={.items[*].metadata.name}")).trim().split(/\s+/).sort();
}

/** Asks /hostname until every pod in `want` has answered; returns who answered. */
async function answerers(url: string, want: string[], maxRequests = 300): Promise<Set<string>> {
  const seen = new Set<string>();
  const agent = new http.Agent({ keepAlive: false });
  for (let i = 0; i < maxRequests && want.some((w) => !seen.has(w)); i++) {
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(`${url}/hostname`, { agent, timeout: 10_000 }, (res) => {
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve(b.trim()));
        })
        .on("error", reject);
    });
    seen.add(body);
  }
  return seen;
}

describe("kubeyard tunnel", () => {
  let tunnel: TunnelProcess;
  let webIP = "";
  let pods: string[] = [];

  beforeAll(async () => {
    await apply(user, deployment("web", 3));
    await apply(user, lbService("web", "web", "", "[{name: http, port: 80, targetPort: 8080}, {name: udp, port: 8081, targetPort: 8081, protocol: UDP}]"));
    await rolledOut(user, NS, "deployment/web");
    pods = await podNames("web");
    expect(pods).toHaveLength(3);
    expect(await ingressOf("web")).toBe(""); // <pending> without a tunnel
  }, 600_000);

  afterAll(async () => {
    if (tunnel && tunnel.proc.exitCode === null) await tunnel.stop("SIGINT");
  });

  it("gives the LoadBalancer Service an address the host reaches, answered by all three pods", async () => {
    tunnel = new TunnelProcess(user, profile);
    webIP = await waitIngress("web");
    expect(webIP).toMatch(/^127\.100\.\d+\.\d+$/);
    const seen = await eventually(async () => {
      const s = await answerers(`http://${webIP}:80`, pods);
      if (pods.some((p) => !s.has(p))) throw new Error(`only ${[...s].join(", ")} answered`);
      return s;
    }, 120_000);
    expect([...seen].sort()).toEqual(pods);
    // The table, in plain lines without a TTY: service, address, ports, ready backends.
    await tunnel.line(new RegExp(`^${NS}/web ${webIP.replace(/\./g, "\\.")} 80/TCP,8081/UDP backends=3$`));
    const svc = await k("get", "svc", "web", "-o", "wide");
    expect(svc).toContain(webIP);
  });

  it("forwards UDP", async () => {
    const name = await eventually(() => udpAsk(webIP, 8081, "hostname"), 60_000);
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

    await apply(user, lbService("second", "web"));
    const secondIP = await waitIngress("second");
    expect(secondIP).not.toBe(webIP);
    await eventually(async () => expect((await httpGet(`http://${secondIP}:80/hostname`)).status).toBe(200), 60_000);

    await k("patch", "svc", "second", "--type=json", "-p", '[{"op":"replace","path":"/spec/ports/0/port","value":8088}]');
    await eventually(async () => expect((await httpGet(`http://${secondIP}:8088/hostname`)).status).toBe(200), 60_000);
    await eventually(async () => expect(await refused(secondIP, 80)).toBe(true), 60_000);

    await k("delete", "svc", "second");
    await tunnel.line(new RegExp(`^${NS}/second removed$`));
    await eventually(async () => expect(await refused(secondIP, 8088)).toBe(true), 60_000);
    await k("scale", "deployment/web", "--replicas=3");
    await rolledOut(user, NS, "deployment/web");
  });

  it("honours loadBalancerIP in its range and refuses one outside it", async () => {
    await apply(user, lbService("fixed", "web", "  loadBalancerIP: 127.100.9.9\n"));
    expect(await waitIngress("fixed")).toBe("127.100.9.9");
    await eventually(async () => expect((await httpGet("http://127.100.9.9:80/hostname")).status).toBe(200), 60_000);

    await apply(user, lbService("outside", "web", "  loadBalancerIP: 10.9.9.9\n"));
    await tunnel.line(new RegExp(`^${NS}/outside <pending> - backends=\\d problem: spec.loadBalancerIP 10.9.9.9 is outside 127.100.0.0/16`));
    expect(await ingressOf("outside")).toBe("");
    await k("delete", "svc", "outside");
  });

  it("shows a port it cannot listen on in the Service's status and its table, and serves it once it is free", async () => {
    const squatter = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => squatter.listen(8090, "127.100.9.20", () => resolve()));
    const portsOf = async () => (await k("get", "svc", "clash", "-o", "jsonpath={.status.loadBalancer.ingress[0].ports}")) || "[]";
    try {
      await apply(user, lbService("clash", "web", "  loadBalancerIP: 127.100.9.20\n", "[{name: http, port: 80, targetPort: 8080}, {name: alt, port: 8090, targetPort: 8080}]"));
      expect(await waitIngress("clash")).toBe("127.100.9.20");
      await eventually(async () =>
        expect(JSON.parse(await portsOf())).toEqual([
          { port: 80, protocol: "TCP" },
          { port: 8090, protocol: "TCP", error: "kubeyard.dev/PortInUse" },
        ]),
      60_000);
      await tunnel.line(new RegExp(`^${NS}/clash 127\\.100\\.9\\.20 80/TCP,8090/TCP backends=3 problem: 127\\.100\\.9\\.20:8090/TCP is in use by another program on this host$`));
      // kube-proxy may not have programmed the new NodePort yet.
      await eventually(async () => expect((await httpGet("http://127.100.9.20:80/hostname")).status).toBe(200), 60_000);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    await eventually(async () => expect(JSON.parse(await portsOf())).toEqual([{ port: 80, protocol: "TCP" }, { port: 8090, protocol: "TCP" }]), 60_000);
    await eventually(async () => expect((await httpGet("http://127.100.9.20:8090/hostname")).status).toBe(200), 60_000);
    await tunnel.line(new RegExp(`^${NS}/clash 127\\.100\\.9\\.20 80/TCP,8090/TCP backends=3$`));
    await k("delete", "svc", "clash");
  });

  it("enforces loadBalancerSourceRanges on the client address", async () => {
    await apply(user, lbService("guarded", "web", "  loadBalancerSourceRanges: [127.0.0.9/32]\n"));
    const ip = await waitIngress("guarded");
    const get = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        http.get(`http://${ip}:80/hostname`, { localAddress, agent: false, timeout: 10_000 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on("error", reject);
      });
    expect(await eventually(() => get("127.0.0.9"), 60_000)).toBe(200);
    await expect(get("127.0.0.1")).rejects.toThrow(/ECONNRESET|socket hang up/);
    await k("delete", "svc", "guarded");
  });

  it("sends externalTrafficPolicy Local traffic to a node with a ready local endpoint", async () => {
    await apply(user, lbService("local", "web", "  externalTrafficPolicy: Local\n"));
    const ip = await waitIngress("local");
    pods = await podNames("web"); // the Deployment was scaled down and up again
    const seen = await eventually(async () => {
      const s = await answerers(`http://${ip}:80`, pods);
      if (pods.some((p) => !s.has(p))) throw new Error(`only ${[...s].join(", ")} answered`);
      return s;
    }, 120_000);
    expect([...seen].sort()).toEqual(pods);
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
    await pollUntil(`the tunnel's descriptors back near ${baseline}`, async () => (tunnel.openFds() <= baseline + 5 ? true : undefined), {
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
    const killed = new TunnelProcess(user, profile);
    const ip = await waitIngress("web");
    await waitIngress("fixed");
    await killed.stop("SIGKILL");
    // The killed tunnel could not clear its addresses...
    expect(await ingressOf("web")).toBe(ip);
    expect(await ingressOf("fixed")).toBe("127.100.9.9");
    // ...and one of them now asks for an address the tunnel cannot give.
    await k("patch", "svc", "fixed", "-p", '{"spec":{"loadBalancerIP":"10.9.9.9"}}');

    tunnel = new TunnelProcess(user, profile);
    await tunnel.line(new RegExp(`earlier tunnel \\(pid ${killed.pid}\\) did not stop cleanly`));
    await waitNoIngress("fixed");
    const again = await waitIngress("web");
    await eventually(async () => expect((await httpGet(`http://${again}:80/hostname`)).status).toBe(200), 60_000);
    expect(await tunnel.stop("SIGINT")).toBe(0);
    expect(await ingressOf("web")).toBe("");
  });
});
