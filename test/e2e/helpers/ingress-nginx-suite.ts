import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ensureTestImage } from "../../../src/artifacts/test-images.js";
import { createDriver } from "../../../src/drivers/index.js";
import { eventually } from "../../helpers/poll.js";
import type { TestUser } from "./cli.js";
import { requestWithHost, type HostAnswer, type HostRequest } from "./http-host.js";
import { apply, kubectlOk, rolledOut } from "./kubectl.js";
import { tlsSecret } from "./tls-secret.js";

export interface NginxCompatCluster {
  user: TestUser;
  profile: string;
  /** Holds Services `a` and `b`: busybox httpd answering `backend-NAME` at / and /NAME on port 80. */
  namespace: string;
  /** The ingress addon's HTTP and HTTPS ports on the host. */
  ports: { http: number; https: number };
}

const ANNOTATION = "nginx.ingress.kubernetes.io";

/**
 * Ingresses written for ingress-nginx, unchanged: class `nginx` and its annotations, served by the
 * ingress addon. Each test sends the request an ingress-nginx user would and checks the answer
 * ingress-nginx gives. Registered into the file whose cluster has the addon enabled.
 */
export function describeNginxCompat(c: () => NginxCompatCluster): void {
  /** An Ingress of class nginx for `host`; `annotations` are the nginx.ingress.kubernetes.io/ ones, by short name. */
  function nginxIngress(name: string, host: string, backend: string, annotations: Record<string, string> = {}, extra = ""): string {
    const notes = Object.entries(annotations).map(([k, v]) => `    ${ANNOTATION}/${k}: ${JSON.stringify(v)}`);
    return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: ${c().namespace}
${notes.length ? `  annotations:\n${notes.join("\n")}\n` : ""}spec:
  ingressClassName: nginx
${extra}  rules:
    - host: ${host}
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: ${backend}, port: {number: 80}}}}
`;
  }

  /** The answer for host+path once `ready` accepts it (routers appear a moment after the object). */
  function answerOnce(what: string, host: string, path: string, ready: (a: HostAnswer) => boolean, req: HostRequest = {}) {
    return eventually(
      what,
      async () => {
        const a = await requestWithHost(req.tls ? c().ports.https : c().ports.http, host, path, req);
        if (!ready(a)) throw new Error(`${host}${path}: status ${a.status}: ${a.body.slice(0, 200)}`);
        return a;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  }

  describe("ingress-nginx manifests, unchanged", () => {
    it("an Ingress of class nginx is served, and its status shows the address it is served on", async () => {
      const { user, namespace } = c();
      expect(await kubectlOk(user, "get", "ingressclass", "nginx", "-o", "jsonpath={.spec.controller}")).toBe("k8s.io/ingress-nginx");
      await apply(user, nginxIngress("nginx-plain", "nginx.test", "a"));
      const a = await answerOnce("nginx.test to answer 200", "nginx.test", "/", (r) => r.status === 200);
      expect(a.body.trim()).toBe("backend-a");
      const ip = () =>
        kubectlOk(user, "-n", namespace, "get", "ingress", "nginx-plain", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}");
      await eventually("the Ingress's status to show 127.0.0.1", async () => expect(await ip()).toBe("127.0.0.1"));
    });

    it("redirects plain HTTP to HTTPS permanently: by default for a TLS Ingress, and with force-ssl-redirect for any", async () => {
      const { user } = c();
      await apply(user, nginxIngress("nginx-tls", "tls.test", "a", {}, "  tls: [{hosts: [tls.test]}]\n"));
      await apply(user, nginxIngress("nginx-redirect", "redirect.test", "a", { "force-ssl-redirect": "true" }));
      for (const host of ["tls.test", "redirect.test"]) {
        const a = await answerOnce(`${host} to redirect`, host, "/a", (r) => r.status !== 404);
        expect(a.status, host).toBe(308);
        expect(a.headers.location, host).toBe(`https://${host}/a`);
      }
      // The TLS Ingress is served over HTTPS (with Traefik's default certificate: the Ingress names no Secret).
      const secure = await answerOnce("tls.test over HTTPS", "tls.test", "/a", (r) => r.status === 200, { tls: {} });
      expect(secure.body.trim()).toBe("backend-a");
    });

    it("auth-type basic asks for the credentials of the auth-secret's htpasswd and lets them in", async () => {
      const { user, namespace } = c();
      const hash = (await execa("openssl", ["passwd", "-apr1", "s3cret"])).stdout.trim();
      await kubectlOk(user, "-n", namespace, "create", "secret", "generic", "basic-auth", `--from-literal=auth=alice:${hash}`);
      const auth = { "auth-type": "basic", "auth-secret": "basic-auth", "auth-realm": "kubeyard e2e" };
      await apply(user, nginxIngress("nginx-auth", "auth.test", "b", auth));
      const challenged = await answerOnce("auth.test to ask for credentials", "auth.test", "/", (r) => r.status !== 404);
      expect(challenged.status).toBe(401);
      expect(challenged.headers["www-authenticate"]).toContain('realm="kubeyard e2e"');
      const credentials = (user: string, pass: string) => ({
        headers: { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` },
      });
      expect((await requestWithHost(c().ports.http, "auth.test", "/", credentials("alice", "wrong"))).status).toBe(401);
      const ok = await requestWithHost(c().ports.http, "auth.test", "/", credentials("alice", "s3cret"));
      expect(ok.status).toBe(200);
      expect(ok.body.trim()).toBe("backend-b");
    });

    it("enable-cors answers a browser's preflight with the allowed origin and methods", async () => {
      const origin = "https://app.example.com";
      const cors = { "enable-cors": "true", "cors-allow-origin": origin, "cors-allow-methods": "GET, PUT" };
      await apply(c().user, nginxIngress("nginx-cors", "cors.test", "a", cors));
      const preflight = {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "PUT" },
      };
      const a = await answerOnce("cors.test to answer a preflight", "cors.test", "/", (r) => r.status !== 404, preflight);
      expect(a.status).toBeLessThan(300);
      expect(a.headers["access-control-allow-origin"]).toBe(origin);
      expect(String(a.headers["access-control-allow-methods"])).toContain("PUT");
      const get = await requestWithHost(c().ports.http, "cors.test", "/", { headers: { Origin: origin } });
      expect(get.body.trim()).toBe("backend-a");
      expect(get.headers["access-control-allow-origin"]).toBe(origin);
    });

    it("backend-protocol HTTPS reaches a backend that serves only TLS", async () => {
      const { user, profile, namespace } = c();
      const image = await ensureTestImage((await createDriver()).images, "agnhost");
      const loaded = await user.kubeyard(["-p", profile, "image", "load", image]);
      expect(loaded.exitCode, String(loaded.all)).toBe(0);
      await tlsSecret(user, namespace, "tls-backend", "tls-backend");
      await apply(user, tlsBackend(namespace, image));
      await rolledOut(user, namespace, "deployment/tls-backend");
      const plain = nginxIngress("nginx-https", "https-backend.test", "tls-backend");
      await apply(user, plain);
      // Without the annotation the backend gets plain HTTP on its TLS port, and the request fails.
      const refused = await answerOnce("the TLS backend to refuse plain HTTP", "https-backend.test", "/hostname", (r) => r.status !== 404);
      expect(refused.status).not.toBe(200);
      await apply(user, nginxIngress("nginx-https", "https-backend.test", "tls-backend", { "backend-protocol": "HTTPS" }));
      const a = await answerOnce("the TLS backend to answer", "https-backend.test", "/hostname", (r) => r.status === 200);
      expect(a.body).toMatch(/^tls-backend-/);
    }, 600_000);
  });
}

/** agnhost netexec serving HTTPS only, with the TLS Secret `tls-backend`, behind Service port 80. */
function tlsBackend(namespace: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: tls-backend, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: tls-backend}}
  template:
    metadata: {labels: {app: tls-backend}}
    spec:
      volumes: [{name: tls, secret: {secretName: tls-backend}}]
      containers:
        - name: netexec
          image: ${image}
          imagePullPolicy: IfNotPresent
          args: [netexec, --http-port=8443, --tls-cert-file=/tls/tls.crt, --tls-private-key-file=/tls/tls.key]
          volumeMounts: [{name: tls, mountPath: /tls}]
          ports: [{containerPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: tls-backend, namespace: ${namespace}}
spec:
  selector: {app: tls-backend}
  ports: [{port: 80, targetPort: 8443}]
`;
}
