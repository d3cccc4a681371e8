import { X509Certificate } from "node:crypto";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs } from "../../src/versions/versions.js";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { answerWithHost, getWithHost } from "./helpers/http-host.js";
import { httpdBackend } from "./helpers/httpd-backend.js";
import { tlsSecret } from "./helpers/tls-secret.js";
import { describeNginxCompat } from "./helpers/ingress-nginx-suite.js";
import { apply, kubectlOk, rolledOut } from "./helpers/kubectl.js";

/*
 * The ingress addon does its job from the host: on the HTTP port kubeyard published, `Host:
 * hello.test` reaches the backend, paths route to two backends, TLS is served with the Secret's
 * certificate, and an HTTPRoute through the addon's Gateway works. Disabling removes what the addon
 * made and nothing of the user's; the Gateway API CRD the user's HTTPRoute needs stays until that is gone.
 */

const NS = "e2e";
const TRAEFIK_IMAGE = imageRefs(findVersion(DEFAULT_KUBERNETES_VERSION)!).traefik;
const { user, profile } = clusterForFile("e2e-ing", { namespaces: [NS] });

let httpPort = 0;
let httpsPort = 0;

/** An Ingress in NS for one host: `paths` maps a path prefix to a backend Service; `extra` goes into its spec. */
function ingress(name: string, host: string, paths: Record<string, string>, extra = ""): string {
  const list = Object.entries(paths).map(
    ([p, svc]) => `          - {path: ${p}, pathType: Prefix, backend: {service: {name: ${svc}, port: {number: 80}}}}`,
  );
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: ${NS}}
spec:
${extra}  rules:
    - host: ${host}
      http:
        paths:
${list.join("\n")}
`;
}

/** The body for `host` + `path` on the ingress's HTTP port, once the route exists. */
const answer = (host: string, urlPath = "/", port = httpPort) => answerWithHost(port, host, urlPath);

describe("the ingress addon", () => {
  it("is enabled by addons enable, which says where it listens; status shows the same ports", async () => {
    await apply(user, httpdBackend(NS, "a") + "---\n" + httpdBackend(NS, "b"));
    const r = await user.kubeyard(["-p", profile, "addons", "enable", "ingress"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    const status = JSON.parse(String((await user.kubeyard(["-p", profile, "status", "-o", "json"])).stdout)) as {
      addonPorts: { ingressHttp: number; ingressHttps: number };
    };
    httpPort = status.addonPorts.ingressHttp;
    httpsPort = status.addonPorts.ingressHttps;
    expect(httpPort).toBeGreaterThan(0);
    expect(String(r.stdout)).toContain(`http://127.0.0.1:${httpPort}`);
    expect(String(r.stdout)).toContain(`https://127.0.0.1:${httpsPort}`);
    const text = await user.kubeyard(["-p", profile, "status"]);
    expect(String(text.stdout)).toContain(`ingress http 127.0.0.1:${httpPort}`);
    expect(await kubectlOk(user, "get", "ingressclass", "traefik", "-o", "jsonpath={.metadata.annotations}")).toContain(
      '"ingressclass.kubernetes.io/is-default-class":"true"',
    );
    await rolledOut(user, NS, "deployment/a");
    await rolledOut(user, NS, "deployment/b");
  }, 600_000);

  it("keeps the archive it loaded Traefik from in the cache, under the image's ID, for the next cluster", async () => {
    const id = (await execa("docker", ["image", "inspect", "--format", "{{.Id}}", TRAEFIK_IMAGE])).stdout.trim();
    const list = JSON.parse(String((await user.kubeyard(["artifacts", "list", "-o", "json"])).stdout)) as {
      name: string;
      version: string;
    }[];
    expect(list.filter((a) => a.name === "traefik-archive").map((a) => a.version)).toEqual([id.replace(/^sha256:/, "").slice(0, 12)]);
  });

  it("routes Host: hello.test from the host to its backend (Ingress without a class: traefik is the default)", async () => {
    await apply(user, ingress("hello", "hello.test", { "/": "a" }));
    expect(await answer("hello.test")).toBe("backend-a");
    expect(await kubectlOk(user, "-n", NS, "get", "ingress", "hello", "-o", "jsonpath={.spec.ingressClassName}")).toBe("traefik");
    // A host no rule names is not routed.
    expect((await getWithHost(httpPort, "nobody.test")).status).toBe(404);
  });

  it("routes paths of one host to two backends", async () => {
    await apply(user, ingress("paths", "paths.test", { "/a": "a", "/b": "b" }, "  ingressClassName: traefik\n"));
    expect(await answer("paths.test", "/a")).toBe("backend-a");
    expect(await answer("paths.test", "/b")).toBe("backend-b");
  });

  it("serves TLS with the certificate of the Ingress's Secret", async () => {
    const pem = await tlsSecret(user, NS, "secure-tls", "secure.test");
    await apply(user, ingress("secure", "secure.test", { "/": "b" }, "  tls: [{hosts: [secure.test], secretName: secure-tls}]\n"));
    // Trusting only the Secret's certificate: the request verifies only once Traefik serves it.
    const r = await eventually(
      "secure.test to answer over TLS through the ingress",
      () => getWithHost(httpsPort, "secure.test", "/", { ca: pem }),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(r.status).toBe(200);
    expect(r.body.trim()).toBe("backend-b");
    expect(r.certificate?.fingerprint256).toBe(new X509Certificate(pem).fingerprint256);
  });

  it("routes an HTTPRoute attached to the addon's Gateway", async () => {
    expect(
      await kubectlOk(
        user,
        "-n",
        "traefik",
        "get",
        "gateway",
        "traefik",
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Programmed')].status}",
      ),
    ).toBe("True");
    await apply(
      user,
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: ${NS}}
spec:
  parentRefs: [{name: traefik, namespace: traefik}]
  hostnames: [route.test]
  rules:
    - backendRefs: [{name: b, port: 80}]
`,
    );
    expect(await answer("route.test")).toBe("backend-b");
  });

  describeNginxCompat(() => ({ user, profile, namespace: NS, ports: { http: httpPort, https: httpsPort } }));

  it("is removed by addons disable, leaving the user's objects and the CRD their HTTPRoute needs", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "disable", "ingress"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout)).toContain("kept CustomResourceDefinition httproutes.gateway.networking.k8s.io");
    expect(await kubectlOk(user, "get", "namespaces", "-o", "name")).not.toContain("namespace/traefik");
    expect(await kubectlOk(user, "get", "ingressclasses", "-o", "name")).toBe("");
    const crds = await kubectlOk(user, "get", "crds", "-o", "name");
    expect(crds).toContain("httproutes.gateway.networking.k8s.io");
    expect(crds).not.toContain("gatewayclasses.gateway.networking.k8s.io");
    // The user's objects are untouched.
    expect(await kubectlOk(user, "-n", NS, "get", "httproute,ingress,deployment,secret", "-o", "name")).toMatch(
      /httproute.*\/route[\s\S]*ingress.*\/hello[\s\S]*deployment.*\/a[\s\S]*secret\/secure-tls/,
    );
    await expect(getWithHost(httpPort, "hello.test", "/", undefined, 3_000)).rejects.toThrow();
    const rows = JSON.parse(String((await user.kubeyard(["-p", profile, "addons", "list", "-o", "json"])).stdout)) as {
      name: string;
      enabled: boolean;
    }[];
    expect(rows.find((x) => x.name === "ingress")?.enabled).toBe(false);

    // Once the user's HTTPRoute is gone, disabling again removes the CRD too.
    await kubectlOk(user, "-n", NS, "delete", "httproute", "route");
    const again = await user.kubeyard(["-p", profile, "addons", "disable", "ingress"]);
    expect(again.exitCode, String(again.all)).toBe(0);
    expect(await kubectlOk(user, "get", "crds", "-o", "name")).not.toContain("gateway.networking.k8s.io");
  }, 300_000);
});
