import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import { beforeAll, expect } from "vitest";
import { ensureTestImage } from "../../../src/artifacts/test-images.js";
import { createDriver } from "../../../src/drivers/index.js";
import type { TestUser } from "./cli.js";
import { eventually } from "../../helpers/poll.js";
import { httpGet } from "./http-get.js";
import { apply, kubectlOk, type Kubectl } from "./kubectl.js";

/** The Service's status.loadBalancer.ingress addresses, space-separated ("" while pending). */
export async function loadBalancerIngress(user: Kubectl, namespace: string, svc: string): Promise<string> {
  return (await kubectlOk(user, "-n", namespace, "get", "svc", svc, "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")).trim();
}

/** The Service's EXTERNAL-IP once it has one; `context` says what else a failure should show (a tunnel's output). */
export function waitLoadBalancerIngress(
  user: Kubectl,
  namespace: string,
  svc: string,
  timeoutMs = 60_000,
  context = () => "",
): Promise<string> {
  return eventually(
    `an EXTERNAL-IP on service ${svc}`,
    async () => {
      const ip = await loadBalancerIngress(user, namespace, svc);
      expect(ip, `status.loadBalancer.ingress${context()}`).not.toBe("");
      return ip;
    },
    { timeoutMs },
  );
}

/**
 * LoadBalancer Services in one namespace, served by agnhost netexec: it answers /hostname (and UDP
 * "hostname") with its pod's name, over keep-alive connections. Loads the agnhost image into the
 * cluster's nodes in beforeAll.
 */
export function lbServices(user: TestUser, profile: string, namespace: string) {
  let image = "";
  beforeAll(async () => {
    image = await ensureTestImage((await createDriver()).images, "agnhost");
    const r = await user.kubeyard(["-p", profile, "image", "load", image]);
    if (r.exitCode !== 0) throw new Error(`image load failed:\n${String(r.all)}`);
  }, 1_800_000);

  const k = (...args: string[]) => kubectlOk(user, "-n", namespace, ...args);

  const ingressOf = (svc: string) => loadBalancerIngress(user, namespace, svc);
  const waitIngress = (svc: string): Promise<string> => waitLoadBalancerIngress(user, namespace, svc);

  const lbService = (name: string, app: string, extra = "", ports = "[{name: http, port: 80, targetPort: 8080}]"): string =>
    `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  type: LoadBalancer
  selector: {app: ${app}}
  ports: ${ports}
${extra}`;

  return {
    k,
    ingressOf,
    waitIngress,
    lbService,

    /**
     * Makes a LoadBalancer Service for `app`'s pods, checks that it gets an address other than
     * `besides` and is served there on port 80, then moves its port to 8088 and checks it is served
     * there. Returns its address.
     */
    async serviceMovedToPort8088(name: string, app: string, besides: string): Promise<string> {
      await apply(user, lbService(name, app));
      const ip = await waitIngress(name);
      expect(ip).not.toBe(besides);
      await serves(`http://${ip}:80/hostname`);
      await k("patch", "svc", name, "--type=json", "-p", '[{"op":"replace","path":"/spec/ports/0/port","value":8088}]');
      await serves(`http://${ip}:8088/hostname`);
      return ip;
    },

    deployment(name: string, replicas: number): string {
      return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
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
    },

    async waitNoIngress(svc: string): Promise<void> {
      await eventually(`service ${svc} without an EXTERNAL-IP`, async () => expect(await ingressOf(svc)).toBe(""), { timeoutMs: 60_000 });
    },

    async podNames(app: string): Promise<string[]> {
      return (await k("get", "pods", "-l", `app=${app}`, "-o", "jsonpath={.items[*].metadata.name}")).trim().split(/\s+/).sort();
    },
  };
}

/** Whether a TCP connection to address:port is refused (nothing listens there). */
export function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

export function udpAsk(host: string, port: number, text: string, timeoutMs = 3_000): Promise<string> {
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

/** Waits (up to a minute: kube-proxy may not have programmed a new port yet) until `url` answers 200. */
export async function serves(url: string): Promise<void> {
  await eventually(`${url} to answer 200`, async () => expect((await httpGet(url)).status).toBe(200), { timeoutMs: 60_000 });
}

/** Asks /hostname until every pod in `pods` has answered (retrying for up to two minutes); returns who answered, sorted. */
export async function allAnswer(url: string, pods: string[]): Promise<string[]> {
  const seen = await eventually(
    `every pod to answer at ${url}`,
    async () => {
      const s = await answerers(url, pods);
      if (pods.some((p) => !s.has(p))) throw new Error(`only ${[...s].join(", ")} answered`);
      return s;
    },
    { timeoutMs: 120_000 },
  );
  return [...seen].sort();
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
