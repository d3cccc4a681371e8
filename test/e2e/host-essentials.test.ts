import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestUser, engineObjects, uniqueProfile } from "./helpers/cli.js";
import { eventually } from "../helpers/poll.js";
import { httpGet } from "./helpers/http-get.js";
import { answerWithHost } from "./helpers/http-host.js";
import { waitLoadBalancerIngress } from "./helpers/lb-services.js";
import { httpdBackend } from "./helpers/httpd-backend.js";
import { apply, kubectlOk, rolledOut } from "./helpers/kubectl.js";
import { everyNodeWeb, podsOf, wgetCommand, type PodPlace } from "./helpers/node-spread.js";
import { TunnelProcess } from "./helpers/tunnel-process.js";

/*
 * What every host of the host matrix must do (test/hosts/README.md runs this file in each virtual machine,
 * beside cluster-workloads.test.ts, which covers volumes, DNS, RBAC and refused connections), on one
 * 3-node cluster: every node Ready, pods on different nodes reaching each other and a Service by its DNS
 * name, the ingress addon answering on the host, `kubeyard tunnel` (in the mode `auto` picks on this host)
 * answering from the host, stop and start keeping the workload, and delete leaving nothing in the engine.
 * Timeouts are those of a host emulated 20 times slower than this one.
 */

const NS = "hosts";
const user = new TestUser();
const profile = uniqueProfile("e2e-host");
const k = (...args: string[]) => kubectlOk(user, "-n", NS, ...args);

const everyPod = () => podsOf(user, NS, "app=every");

/** An HTTP GET from inside `pod` (a generous bound: this host may be emulated). */
const wgetIn = (pod: string, url: string) => k("exec", pod, "--", ...wgetCommand(url, 20));

/** The body behind `host` on the ingress's HTTP port, once it answers 200 (a generous bound: this host may be emulated). */
const throughIngress = (port: number, host: string) => answerWithHost(port, host, "/", 600_000);

async function ingressHttpPort(): Promise<number> {
  const r = await user.kubeyard(["-p", profile, "status", "-o", "json"]);
  expect(r.exitCode, String(r.all)).toBe(0);
  return (JSON.parse(String(r.stdout)) as { addonPorts: { ingressHttp: number } }).addonPorts.ingressHttp;
}

describe("what every host must do", () => {
  let deleted = false;

  beforeAll(async () => {
    const r = await user.kubeyard(["start", "-p", profile, "--nodes", "3"]);
    if (r.exitCode !== 0) throw new Error(`kubeyard start failed (${r.exitCode}):\n${String(r.all)}`);
    await kubectlOk(user, "create", "namespace", NS);
  }, 2_400_000);

  afterAll(async () => {
    if (!deleted) await user.kubeyard(["delete", "-p", profile]);
    rmSync(user.home, { recursive: true, force: true });
  }, 600_000);

  it("starts three nodes, each Ready", async () => {
    await kubectlOk(user, "wait", "--for=condition=Ready", "node", "--all", "--timeout=600s");
    const nodes = (await kubectlOk(user, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}")).split(" ");
    expect(nodes).toHaveLength(3);
  }, 700_000);

  it("runs a pod on each node; the pods reach each other across nodes, and a Service by its DNS name", async () => {
    await apply(user, everyNodeWeb(NS));
    await rolledOut(user, NS, "daemonset/every", "900s");
    const pods = await everyPod();
    expect(new Set(pods.map((p) => p.node)).size).toBe(3);
    const [from, ...others] = pods as [PodPlace, ...PodPlace[]];
    for (const to of others) expect((await wgetIn(from.name, `http://${to.ip}:8080/`)).trim()).toBe(to.name);
    const viaDns = await eventually("the Service by its DNS name", () => wgetIn(from.name, `http://every.${NS}.svc.cluster.local/`), {
      timeoutMs: 180_000,
      intervalMs: 2_000,
    });
    expect(pods.map((p) => p.name)).toContain(viaDns.trim());
  }, 1_200_000);

  it("answers through the ingress addon on the port it publishes on the host", async () => {
    await apply(
      user,
      httpdBackend(NS, "web") +
        `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ${NS}}
spec:
  rules:
    - host: web.test
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
`,
    );
    const r = await user.kubeyard(["-p", profile, "addons", "enable", "ingress"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    await rolledOut(user, NS, "deployment/web", "900s");
    expect(await throughIngress(await ingressHttpPort(), "web.test")).toBe("backend-web");
  }, 1_800_000);

  it("gives a LoadBalancer Service an address the host reaches while `kubeyard tunnel` runs", async () => {
    await apply(
      user,
      `
apiVersion: v1
kind: Service
metadata: {name: every-lb, namespace: ${NS}}
spec:
  type: LoadBalancer
  selector: {app: every}
  ports: [{port: 80, targetPort: 8080}]
`,
    );
    const tunnel = new TunnelProcess(user, profile);
    try {
      const ip = await waitLoadBalancerIngress(user, NS, "every-lb", 600_000, () => `; the tunnel said:\n${tunnel.output()}`);
      const body = await eventually(
        `http://${ip}/ from the host`,
        async () => {
          const a = await httpGet(`http://${ip}/`);
          expect(a.status).toBe(200);
          return a.body.trim();
        },
        { timeoutMs: 300_000, intervalMs: 2_000 },
      );
      expect((await everyPod()).map((p) => p.name)).toContain(body);
    } finally {
      expect(await tunnel.stop("SIGINT"), tunnel.output()).toBe(0);
    }
  }, 1_200_000);

  it("keeps the workload, its data and the addon across stop and start", async () => {
    await k("create", "configmap", "kept", "--from-literal=note=before-stop");
    const stop = await user.kubeyard(["-p", profile, "stop"]);
    expect(stop.exitCode, String(stop.all)).toBe(0);
    const start = await user.kubeyard(["-p", profile, "start"]);
    expect(start.exitCode, String(start.all)).toBe(0);
    expect(await k("get", "configmap", "kept", "-o", "jsonpath={.data.note}")).toBe("before-stop");
    await rolledOut(user, NS, "daemonset/every", "900s");
    await rolledOut(user, NS, "deployment/web", "900s");
    expect(await throughIngress(await ingressHttpPort(), "web.test")).toBe("backend-web");
  }, 2_400_000);

  it("is deleted with everything it had in the engine, and its kubeconfig context", async () => {
    const r = await user.kubeyard(["delete", "-p", profile]);
    expect(r.exitCode, String(r.all)).toBe(0);
    deleted = true;
    expect(await engineObjects(profile)).toEqual({ containers: [], networks: [], volumes: [] });
    const contexts = await user.kubectl(["config", "get-contexts", "-o", "name"]);
    expect(String(contexts.stdout).split("\n")).not.toContain(profile);
  }, 600_000);
});
