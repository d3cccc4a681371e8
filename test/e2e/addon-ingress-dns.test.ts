import { Resolver } from "node:dns/promises";
import { describe, expect, it } from "vitest";
import { queryA } from "../../src/util/dns-query.js";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { getVia } from "./helpers/http-via-dns.js";
import { httpdBackend } from "./helpers/httpd-backend.js";
import { apply, kubectlOk, rolledOut } from "./helpers/kubectl.js";

/*
 * The ingress-dns addon does its job from the host, without root: its DNS server on the port
 * kubeyard published answers every *.test name with 127.0.0.1 over UDP (Node's own resolver) and
 * TCP, so an HTTP request whose name is looked up there reaches an Ingress's backend; names outside
 * the zone get no address; the zone is a value; disabling it removes the server.
 */

const NS = "e2e";
const { user, profile } = clusterForFile("e2e-dns", { startArgs: ["--addons", "ingress,ingress-dns"], namespaces: [NS] });

let dnsPort = 0;
let httpPort = 0;

/** Node's resolver (c-ares, UDP) asking only the addon's server. */
function resolver(): Resolver {
  const r = new Resolver({ timeout: 2_000, tries: 2 });
  r.setServers([`127.0.0.1:${dnsPort}`]);
  return r;
}

/** The code a lookup fails with, or "resolved" when it does not fail. */
async function failure(lookup: Promise<unknown>): Promise<string> {
  return lookup.then(
    () => "resolved",
    (err: NodeJS.ErrnoException) => String(err.code),
  );
}

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: hello, namespace: ${NS}}
spec:
  rules:
    - host: hello.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: hello, port: {number: 80}}}}
`;

describe("the ingress-dns addon", () => {
  it("is enabled by start --addons, on a UDP and TCP host port that status shows", async () => {
    const status = JSON.parse(String((await user.kubeyard(["-p", profile, "status", "-o", "json"])).stdout)) as {
      addons: string[];
      addonPorts: { ingressDns: number; ingressHttp: number };
    };
    expect(status.addons).toEqual(expect.arrayContaining(["ingress", "ingress-dns"]));
    dnsPort = status.addonPorts.ingressDns;
    httpPort = status.addonPorts.ingressHttp;
    expect(dnsPort).toBeGreaterThan(0);
    const text = await user.kubeyard(["-p", profile, "status"]);
    expect(String(text.stdout)).toContain(`ingress dns 127.0.0.1:${dnsPort} (UDP and TCP)`);
  });

  it("answers every *.test name with 127.0.0.1, over UDP and over TCP", async () => {
    const r = resolver();
    expect(await r.resolve4("hello.test")).toEqual(["127.0.0.1"]);
    expect(await r.resolve4("a.b.c.test")).toEqual(["127.0.0.1"]);
    expect(await queryA("127.0.0.1", dnsPort, "hello.test", "tcp")).toEqual({ rcode: 0, addresses: ["127.0.0.1"] });
    // No name has an IPv6 address: an empty answer, not a failure, so an A+AAAA lookup keeps the A.
    expect(await failure(r.resolve6("hello.test"))).toBe("ENODATA");
  });

  it("gives no address for a name outside the zone", async () => {
    expect(["ENOTFOUND", "EREFUSED"]).toContain(await failure(resolver().resolve4("hello.example")));
    const tcp = await queryA("127.0.0.1", dnsPort, "kubernetes.io", "tcp");
    expect([3, 5]).toContain(tcp.rcode);
    expect(tcp.addresses).toEqual([]);
  });

  it("makes an HTTP request to http://hello.test, looked up there, reach the Ingress's backend", async () => {
    await apply(user, `${httpdBackend(NS, "hello")}---\n${INGRESS}`);
    await rolledOut(user, NS, "deployment/hello");
    // Traefik routes an Ingress a moment after it exists.
    const r = await eventually(
      "hello.test, looked up through the addon's DNS server, to answer 200",
      async () => {
        const got = await getVia(resolver(), `http://hello.test:${httpPort}/`);
        if (got.status !== 200) throw new Error(`status ${got.status}: ${got.body}`);
        return got;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(r.address).toBe("127.0.0.1");
    expect(r.body.trim()).toBe("backend-hello");
  });

  it("addons enable prints how to use it with the cluster's port; a bad zone fails naming it and what is accepted", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "enable", "ingress-dns"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    const out = String(r.stdout);
    expect(out).toContain(`dig @127.0.0.1 -p ${dnsPort} hello.test`);
    expect(out).toContain(`DNS=127.0.0.1:${dnsPort}\\nDomains=~test`);
    expect(out).toContain(`server=/test/127.0.0.1#${dnsPort}`);
    expect(out).toContain(`nameserver 127.0.0.1\\nport ${dnsPort}`);
    const bad = await user.kubeyard(["-p", profile, "addons", "enable", "ingress-dns", "--set", "zone=Bad_Zone"]);
    expect(bad.exitCode).not.toBe(0);
    expect(String(bad.all)).toContain('invalid value "Bad_Zone" for ingress-dns value "zone"');
    expect(String(bad.all)).toContain("DNS-1123 subdomain");
  }, 300_000);

  it("serves another zone when the zone value changes, and no longer the old one", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "enable", "ingress-dns", "--set", "zone=kube.internal"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout)).toContain(`dig @127.0.0.1 -p ${dnsPort} hello.kube.internal`);
    expect(await resolver().resolve4("hello.kube.internal")).toEqual(["127.0.0.1"]);
    expect(["ENOTFOUND", "EREFUSED"]).toContain(await failure(resolver().resolve4("hello.test")));
  }, 300_000);

  it("is removed by addons disable: the port answers no more, and the user's objects stay", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "disable", "ingress-dns"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(await kubectlOk(user, "get", "namespaces", "-o", "name")).not.toContain("namespace/ingress-dns");
    // The pod goes a moment after its namespace is deleted.
    await eventually(
      "the addon's DNS server to stop answering",
      async () => {
        const code = await failure(resolver().resolve4("hello.kube.internal"));
        if (code === "resolved") throw new Error("the server still answers");
      },
      { timeoutMs: 60_000 },
    );
    await expect(queryA("127.0.0.1", dnsPort, "hello.kube.internal", "tcp", 2_000)).rejects.toThrow();
    expect(await kubectlOk(user, "-n", NS, "get", "ingress", "-o", "name")).toBe("ingress.networking.k8s.io/hello");
    expect(await kubectlOk(user, "get", "deployments", "-A", "-o", "name")).toContain("deployment.apps/traefik");
  }, 300_000);
});
