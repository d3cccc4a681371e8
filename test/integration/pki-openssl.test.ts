// Checks the generated PKI with tools that did not make it: the openssl binary and a real TLS
// handshake through node:tls on 127.0.0.1. No container engine is involved.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateClusterPki, writePki, type ClusterPkiSpec, type PkiBundle } from "../../src/pki/index.js";

const spec: ClusterPkiSpec = {
  serviceSubnet: "10.96.0.0/12,fd00:10:96::/112",
  controlPlanes: [{ name: "cp1", ip: "172.18.0.2" }],
  nodes: [{ name: "worker1", ip: "172.18.0.3" }],
  extraSans: ["lb.example.test", "2001:db8::5"],
};

/** Which CA must have signed each certificate, and what a verifier should accept it for. */
type Purpose = "ca" | "sslserver" | "sslclient" | "both";
const expected: Record<string, [ca: string, purpose: Purpose]> = {
  "ca.crt": ["ca.crt", "ca"],
  "front-proxy-ca.crt": ["front-proxy-ca.crt", "ca"],
  "etcd/ca.crt": ["etcd/ca.crt", "ca"],
  "apiserver.crt": ["ca.crt", "sslserver"],
  "apiserver-kubelet-client.crt": ["ca.crt", "sslclient"],
  "apiserver-etcd-client.crt": ["etcd/ca.crt", "sslclient"],
  "front-proxy-client.crt": ["front-proxy-ca.crt", "sslclient"],
  "etcd/healthcheck-client.crt": ["etcd/ca.crt", "sslclient"],
  "etcd/cp1/server.crt": ["etcd/ca.crt", "both"],
  "etcd/cp1/peer.crt": ["etcd/ca.crt", "both"],
  "identities/admin.crt": ["ca.crt", "sslclient"],
  "identities/controller-manager.crt": ["ca.crt", "sslclient"],
  "identities/scheduler.crt": ["ca.crt", "sslclient"],
  "nodes/cp1/kubelet-client.crt": ["ca.crt", "sslclient"],
  "nodes/cp1/kubelet.crt": ["ca.crt", "sslserver"],
  "nodes/worker1/kubelet-client.crt": ["ca.crt", "sslclient"],
  "nodes/worker1/kubelet.crt": ["ca.crt", "sslserver"],
};
const CAS = ["ca.crt", "front-proxy-ca.crt", "etcd/ca.crt"];

let root: string;
let dir: string; // the cluster under test
let impostorDir: string; // another cluster whose CAs have the very same names
let bundle: PkiBundle;
let impostor: PkiBundle;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kubeyard-pki-openssl-"));
  dir = path.join(root, "pki");
  impostorDir = path.join(root, "impostor");
  [bundle, impostor] = await Promise.all([generateClusterPki(spec), generateClusterPki(spec)]);
  await Promise.all([writePki(dir, bundle), writePki(impostorDir, impostor)]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openssl(...args: string[]) {
  return execa("openssl", args, { cwd: dir, reject: false });
}

function verifyArgs(caFile: string, certFile: string, purpose?: string): string[] {
  return ["verify", "-x509_strict", ...(purpose ? ["-purpose", purpose] : []), "-CAfile", caFile, certFile];
}

describe("openssl", () => {
  test("the table above covers every certificate written", async () => {
    const written = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".crt")).sort();
    expect(written).toEqual(Object.keys(expected).sort());
  });

  test("verifies every certificate against its CA, for its purpose", async () => {
    for (const [file, [ca, purpose]] of Object.entries(expected)) {
      const purposes = purpose === "ca" ? [undefined] : purpose === "both" ? ["sslserver", "sslclient"] : [purpose];
      for (const p of purposes) {
        const result = await openssl(...verifyArgs(ca, file, p));
        expect(result.exitCode, `${file} (${p ?? "any"}): ${result.stderr}`).toBe(0);
        expect(result.stdout).toBe(`${file}: OK`);
      }
    }
  });

  test("rejects every certificate against the wrong CA, including a same-named one", async () => {
    for (const [file, [ca]] of Object.entries(expected)) {
      const wrong = [...CAS.filter((other) => other !== ca).map((other) => path.join(dir, other)), path.join(impostorDir, ca)];
      for (const wrongCa of wrong) {
        const result = await openssl(...verifyArgs(wrongCa, file));
        expect(result.exitCode, `${file} against ${wrongCa}`).not.toBe(0);
        expect(result.stdout + result.stderr).toMatch(/error \d+ at \d+ depth lookup/);
      }
    }
  });

  test("rejects a certificate used for what it was not issued for", async () => {
    for (const [file, purpose] of [
      ["identities/admin.crt", "sslserver"],
      ["apiserver.crt", "sslclient"],
      ["nodes/worker1/kubelet.crt", "sslclient"],
    ]) {
      const result = await openssl(...verifyArgs("ca.crt", file!, purpose));
      expect(result.exitCode, `${file} as ${purpose}`).not.toBe(0);
      expect(result.stdout + result.stderr).toContain("unsuitable certificate purpose");
    }
  });

  test("shows the expected subject alternative names", async () => {
    const sanOf = async (file: string) => {
      const result = await openssl("x509", "-noout", "-ext", "subjectAltName", "-in", file);
      expect(result.exitCode, result.stderr).toBe(0);
      return result.stdout.split("\n").slice(1).join("").trim().split(/,\s*/);
    };
    expect(await sanOf("apiserver.crt")).toEqual([
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.cluster.local",
      "DNS:localhost",
      "DNS:cp1",
      "DNS:lb.example.test",
      "IP Address:10.96.0.1",
      "IP Address:FD00:10:96:0:0:0:0:1",
      "IP Address:127.0.0.1",
      "IP Address:172.18.0.2",
      "IP Address:2001:DB8:0:0:0:0:0:5",
    ]);
    expect(await sanOf("etcd/cp1/server.crt")).toEqual([
      "DNS:cp1",
      "DNS:localhost",
      "IP Address:172.18.0.2",
      "IP Address:127.0.0.1",
      "IP Address:0:0:0:0:0:0:0:1",
    ]);
    expect(await sanOf("nodes/worker1/kubelet.crt")).toEqual([
      "DNS:worker1",
      "DNS:localhost",
      "IP Address:172.18.0.3",
      "IP Address:127.0.0.1",
    ]);
  });

  test("shows CA and leaf constraints", async () => {
    const ext = async (file: string) =>
      (await openssl("x509", "-noout", "-ext", "basicConstraints,keyUsage,extendedKeyUsage", "-in", file)).stdout;
    const ca = await ext("etcd/ca.crt");
    expect(ca).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(ca).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(ca).not.toContain("Extended Key Usage");
    const leaf = await ext("etcd/cp1/peer.crt");
    expect(leaf).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(leaf).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(leaf).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
  });

  test("parses every private key and the service-account public key", async () => {
    const keys = Object.keys(bundle).filter((f) => f.endsWith(".key"));
    expect(keys.length).toBe(Object.keys(expected).length + 1);
    for (const key of keys) {
      const result = await openssl("pkey", "-in", key, "-noout");
      expect(result.exitCode, `${key}: ${result.stderr}`).toBe(0);
    }
    expect((await openssl("pkey", "-pubin", "-in", "sa.pub", "-noout")).exitCode).toBe(0);
    // The check itself can fail: a damaged key does not parse.
    const damaged = path.join(root, "damaged.key");
    await writeFile(damaged, bundle["ca.key"]!.replace(/\n[^\n]+\n-----END/, "\n-----END"));
    expect((await openssl("pkey", "-in", damaged, "-noout")).exitCode).not.toBe(0);
  });
});

interface HandshakeResult {
  serverSawClient?: string; // the CN of an authorized client certificate
  serverError?: string;
  clientError?: string;
}

/** One TLS connection on 127.0.0.1: a server that requires a client cert from `ca.crt`. */
async function handshake(
  server: { cert: string; key: string },
  client: { cert: string; key: string; servername?: string },
): Promise<HandshakeResult> {
  const result: HandshakeResult = {};
  const listener = tls.createServer({
    cert: server.cert,
    key: server.key,
    ca: bundle["ca.crt"],
    requestCert: true,
    rejectUnauthorized: true,
  });
  listener.on("secureConnection", (socket) => {
    result.serverSawClient = socket.authorized ? String(socket.getPeerCertificate().subject.CN) : undefined;
    socket.end("hello");
  });
  listener.on("tlsClientError", (error) => {
    result.serverError = error.message;
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    await new Promise<void>((resolve) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        servername: client.servername,
        ca: bundle["ca.crt"],
        cert: client.cert,
        key: client.key,
      });
      socket.on("data", () => undefined);
      socket.on("error", (error) => {
        result.clientError = error.message;
      });
      socket.on("close", () => resolve());
    });
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
  return result;
}

describe("TLS handshake", () => {
  const apiserver = () => ({ cert: bundle["apiserver.crt"]!, key: bundle["apiserver.key"]! });
  const admin = () => ({ cert: bundle["identities/admin.crt"]!, key: bundle["identities/admin.key"]! });

  test("the admin client and the API server accept each other on 127.0.0.1 and by DNS name", async () => {
    expect(await handshake(apiserver(), admin())).toEqual({ serverSawClient: "kubernetes-admin" });
    expect(await handshake(apiserver(), { ...admin(), servername: "kubernetes.default.svc" })).toEqual({
      serverSawClient: "kubernetes-admin",
    });
  });

  test("a client certificate from another cluster's CA is refused", async () => {
    const result = await handshake(apiserver(), {
      cert: impostor["identities/admin.crt"]!,
      key: impostor["identities/admin.key"]!,
    });
    expect(result.serverSawClient).toBeUndefined();
    expect(result.serverError).toBeDefined();
  });

  test("a server certificate from another cluster's CA is refused", async () => {
    const result = await handshake({ cert: impostor["apiserver.crt"]!, key: impostor["apiserver.key"]! }, admin());
    expect(result.serverSawClient).toBeUndefined();
    expect(result.clientError).toMatch(/certificate/);
  });

  test("a name the API server certificate does not carry is refused", async () => {
    const result = await handshake(apiserver(), { ...admin(), servername: "not-kubernetes.example" });
    expect(result.serverSawClient).toBeUndefined();
    expect(result.clientError).toMatch(/does not match certificate's altnames|Hostname\/IP does not match/);
  });
});
