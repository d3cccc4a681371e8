import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, webcrypto, X509Certificate } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  addNode,
  casFromBundle,
  certNotAfter,
  ensureClusterPki,
  firstServiceIP,
  generateClusterPki,
  issueNodeCerts,
  loadPki,
  normalizeIp,
  pkiPaths,
  serviceIPs,
  writePki,
  type ClusterPkiSpec,
  type PkiBundle,
} from "../../src/pki/index.js";
import { UserError } from "../../src/util/errors.js";

const NOW = new Date("2030-06-01T12:00:00Z");
const DAY = 24 * 60 * 60 * 1000;

const spec: ClusterPkiSpec = {
  serviceSubnet: "10.96.0.0/12",
  dnsDomain: "corp.local",
  controlPlanes: [
    { name: "cp1", ip: "172.18.0.2" },
    { name: "cp2", ip: "172.18.0.3" },
  ],
  nodes: [{ name: "worker1", ip: "172.18.0.4" }],
  extraSans: ["LB.Example.Test", "2001:db8:0::5", "192.0.2.10"],
};

let bundle: PkiBundle;
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-pki-"));
  tempDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  bundle = await generateClusterPki(spec, { now: NOW });
});

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function cert(file: string, from: PkiBundle = bundle): X509Certificate {
  const pem = from[file];
  if (pem === undefined) throw new Error(`bundle has no ${file}`);
  return new X509Certificate(pem);
}

function sans(file: string, from: PkiBundle = bundle): string[] {
  return cert(file, from).subjectAltName?.split(", ") ?? [];
}

function keyUsages(file: string): number | undefined {
  return new x509.X509Certificate(bundle[file]!).getExtension(x509.KeyUsagesExtension)?.usages;
}

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

describe("service CIDR math", () => {
  test.each([
    ["10.96.0.0/12", "10.96.0.1"],
    ["10.100.7.9/12", "10.96.0.1"], // host bits are masked off, as Kubernetes does
    ["192.168.0.0/16", "192.168.0.1"],
    ["10.0.0.254/31", "10.0.0.255"],
    ["fd00:10:96::/112", "fd00:10:96::1"],
    ["fd00:10:96::abcd/108", "fd00:10:96::1"],
    ["2001:db8::/64", "2001:db8::1"],
    ["2001:db8:1:2:3:4:5:0/112", "2001:db8:1:2:3:4:5:1"],
  ])("first IP of %s is %s", (cidr, ip) => {
    expect(firstServiceIP(cidr)).toBe(ip);
  });

  test.each(["10.96.0.0", "10.96.0.0/33", "10.0.0.1/32", "fd00::/128", "banana/12", "10.96.0.0/-1", ""])(
    "rejects %j with a user error",
    (cidr) => {
      expect(() => firstServiceIP(cidr)).toThrow(UserError);
    },
  );

  test("dual-stack subnets give one address per family", () => {
    expect(serviceIPs("10.96.0.0/12, fd00:10:96::/112")).toEqual(["10.96.0.1", "fd00:10:96::1"]);
  });

  test("IPs are normalized so duplicates collapse", () => {
    expect(normalizeIp("2001:DB8:0:0:0:0:0:5")).toBe("2001:db8::5");
    expect(normalizeIp("::ffff:10.0.0.1")).toBe("::ffff:a00:1");
    expect(normalizeIp("fd00:0:0:1:0:0:0:1")).toBe("fd00:0:0:1::1");
    expect(normalizeIp("::")).toBe("::");
    expect(normalizeIp("kubernetes")).toBeUndefined();
  });
});

describe("generated cluster PKI", () => {
  test("has every file in the documented layout", () => {
    const expected = [
      pkiPaths.ca,
      pkiPaths.frontProxyCa,
      pkiPaths.etcdCa,
      pkiPaths.apiserver,
      pkiPaths.apiserverKubeletClient,
      pkiPaths.apiserverEtcdClient,
      pkiPaths.frontProxyClient,
      pkiPaths.etcdHealthcheckClient,
      pkiPaths.admin,
      pkiPaths.controllerManager,
      pkiPaths.scheduler,
      ...["cp1", "cp2"].flatMap((m) => [pkiPaths.etcdServer(m), pkiPaths.etcdPeer(m)]),
      ...["cp1", "cp2", "worker1"].flatMap((n) => [pkiPaths.kubeletClient(n), pkiPaths.kubeletServing(n)]),
    ].flatMap((p) => [p.cert, p.key]);
    expect(Object.keys(bundle).sort()).toEqual([...expected, "sa.key", "sa.pub"].sort());
    expect(pkiPaths.etcdServer("cp1").cert).toBe("etcd/cp1/server.crt");
    expect(pkiPaths.kubeletClient("worker1").key).toBe("nodes/worker1/kubelet-client.key");
  });

  test("the API server certificate names every way to reach it", () => {
    expect(sans("apiserver.crt")).toEqual([
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.corp.local",
      "DNS:localhost",
      "DNS:cp1",
      "DNS:cp2",
      "DNS:lb.example.test",
      "IP Address:10.96.0.1",
      "IP Address:127.0.0.1",
      "IP Address:172.18.0.2",
      "IP Address:172.18.0.3",
      "IP Address:2001:DB8:0:0:0:0:0:5",
      "IP Address:192.0.2.10",
    ]);
    expect(cert("apiserver.crt").subject).toBe("CN=kube-apiserver");
    expect(cert("apiserver.crt").keyUsage).toEqual([SERVER_AUTH]);
  });

  test("a dual-stack service subnet puts both kubernetes Service IPs in the API server certificate", async () => {
    const dual = await generateClusterPki({ ...spec, serviceSubnet: "10.96.0.0/12,fd00:10:96::/112", extraSans: [] });
    expect(sans("apiserver.crt", dual)).toContain("IP Address:10.96.0.1");
    expect(sans("apiserver.crt", dual)).toContain("IP Address:FD00:10:96:0:0:0:0:1");
  });

  test("CAs are 10-year CAs that may only sign", () => {
    for (const [file, cn] of [
      ["ca.crt", "kubeyard-ca"],
      ["front-proxy-ca.crt", "kubeyard-front-proxy-ca"],
      ["etcd/ca.crt", "kubeyard-etcd-ca"],
    ] as const) {
      const ca = cert(file);
      expect(ca.ca, file).toBe(true);
      expect(ca.subject).toBe(`CN=${cn}`);
      expect(ca.checkIssued(ca)).toBe(true);
      expect(keyUsages(file)).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature);
      expect(new x509.X509Certificate(bundle[file]!).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
      expect(new Date(ca.validTo).getUTCFullYear()).toBe(2040);
    }
  });

  test("client identities carry the subjects RBAC expects", () => {
    const subjects: Record<string, string> = {
      "identities/admin.crt": "O=system:masters\nCN=kubernetes-admin",
      "identities/controller-manager.crt": "CN=system:kube-controller-manager",
      "identities/scheduler.crt": "CN=system:kube-scheduler",
      "apiserver-kubelet-client.crt": "O=system:masters\nCN=kube-apiserver-kubelet-client",
      "apiserver-etcd-client.crt": "CN=kube-apiserver-etcd-client",
      "front-proxy-client.crt": "CN=front-proxy-client",
      "etcd/healthcheck-client.crt": "CN=kube-etcd-healthcheck-client",
      "nodes/worker1/kubelet-client.crt": "O=system:nodes\nCN=system:node:worker1",
      "nodes/cp1/kubelet-client.crt": "O=system:nodes\nCN=system:node:cp1",
    };
    for (const [file, subject] of Object.entries(subjects)) {
      const c = cert(file);
      expect(c.subject, file).toBe(subject);
      expect(c.keyUsage, file).toEqual([CLIENT_AUTH]);
      expect(c.ca, file).toBe(false);
      expect(c.subjectAltName, file).toBeUndefined();
      expect(keyUsages(file), file).toBe(x509.KeyUsageFlags.digitalSignature);
    }
  });

  test("every certificate is signed by the CA it belongs to, and by no other", () => {
    const ca = cert("ca.crt");
    const frontProxyCa = cert("front-proxy-ca.crt");
    const etcdCa = cert("etcd/ca.crt");
    const issuerOf = (file: string) =>
      file.startsWith("etcd/") || file === "apiserver-etcd-client.crt" ? etcdCa : file === "front-proxy-client.crt" ? frontProxyCa : ca;
    const leaves = Object.keys(bundle).filter((f) => f.endsWith(".crt") && !f.endsWith("ca.crt"));
    expect(leaves).toHaveLength(18);
    for (const file of leaves) {
      const leaf = cert(file);
      for (const candidate of [ca, frontProxyCa, etcdCa]) {
        const expected = candidate === issuerOf(file);
        expect(leaf.verify(candidate.publicKey), `${file} signed by ${candidate.subject}`).toBe(expected);
        expect(leaf.checkIssued(candidate), `${file} issued by ${candidate.subject}`).toBe(expected);
      }
    }
  });

  test("etcd members serve and authenticate under their own names", () => {
    for (const member of ["cp1", "cp2"]) {
      for (const file of [pkiPaths.etcdServer(member).cert, pkiPaths.etcdPeer(member).cert]) {
        const ip = member === "cp1" ? "172.18.0.2" : "172.18.0.3";
        expect(sans(file)).toEqual([
          `DNS:${member}`,
          "DNS:localhost",
          `IP Address:${ip}`,
          "IP Address:127.0.0.1",
          "IP Address:0:0:0:0:0:0:0:1",
        ]);
        expect(cert(file).subject).toBe(`CN=${member}`);
        expect(cert(file).keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
      }
    }
    expect(Object.keys(bundle).some((f) => f.startsWith("etcd/worker1/"))).toBe(false);
  });

  test("each node's kubelet gets a serving certificate for its own names", () => {
    expect(sans("nodes/worker1/kubelet.crt")).toEqual(["DNS:worker1", "DNS:localhost", "IP Address:172.18.0.4", "IP Address:127.0.0.1"]);
    expect(cert("nodes/worker1/kubelet.crt").keyUsage).toEqual([SERVER_AUTH]);
  });

  test("leaves are valid for a year and backdated against clock skew", () => {
    for (const file of ["apiserver.crt", "identities/admin.crt", "nodes/worker1/kubelet.crt"]) {
      const c = cert(file);
      const notBefore = new Date(c.validFrom).getTime();
      expect(notBefore).toBeLessThanOrEqual(NOW.getTime() - 60_000);
      expect(notBefore).toBeGreaterThanOrEqual(NOW.getTime() - 60 * 60_000);
      expect(certNotAfter(bundle[file]!).getTime()).toBe(NOW.getTime() + 365 * DAY);
    }
  });

  test("validity is configurable but a leaf never outlives its CA", async () => {
    const long = await issueNodeCerts(
      await casFromBundle(bundle),
      { name: "n9", ip: "10.0.0.9" },
      { now: NOW, certValidityDays: 30 * 365 },
    );
    expect(certNotAfter(long["nodes/n9/kubelet.crt"]!)).toEqual(certNotAfter(bundle["ca.crt"]!));
    const short = await issueNodeCerts(await casFromBundle(bundle), { name: "n9", ip: "10.0.0.9" }, { now: NOW, certValidityDays: 7 });
    expect(certNotAfter(short["nodes/n9/kubelet.crt"]!).getTime()).toBe(NOW.getTime() + 7 * DAY);
  });

  test("every key is PKCS#8 and belongs to its certificate", () => {
    const keys = Object.keys(bundle).filter((f) => f.endsWith(".key"));
    expect(keys).toHaveLength(22);
    for (const file of keys) {
      const pem = bundle[file]!;
      expect(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"), file).toBe(true);
      const key = createPrivateKey(pem);
      expect(key.asymmetricKeyDetails?.namedCurve, file).toBe("prime256v1");
      if (file === "sa.key") continue;
      const certFile = file.replace(/\.key$/, ".crt");
      expect(cert(certFile).checkPrivateKey(key), file).toBe(true);
    }
  });

  test("every file is one PEM block ending in a newline, so files concatenate into bundles", () => {
    for (const [file, pem] of Object.entries(bundle)) {
      expect(pem, file).toMatch(/^-----BEGIN (CERTIFICATE|PRIVATE KEY|PUBLIC KEY)-----\n[A-Za-z0-9+/=\n]+\n-----END \1-----\n$/);
    }
  });

  test("sa.key signs tokens that sa.pub verifies", () => {
    expect(bundle["sa.pub"]!.startsWith("-----BEGIN PUBLIC KEY-----\n")).toBe(true);
    const data = Buffer.from("header.payload");
    const signature = sign("sha256", data, createPrivateKey(bundle["sa.key"]!));
    expect(verify("sha256", data, createPublicKey(bundle["sa.pub"]!), signature)).toBe(true);
    expect(verify("sha256", data, createPublicKey(bundle["apiserver.crt"]!), signature)).toBe(false);
  });

  test("bad input fails before any key is made, with a user error", async () => {
    const bad: ClusterPkiSpec[] = [
      { ...spec, controlPlanes: [] },
      { ...spec, nodes: [{ name: "../escape", ip: "10.0.0.1" }] },
      { ...spec, nodes: [{ name: "Worker", ip: "10.0.0.1" }] },
      { ...spec, nodes: [{ name: "w", ip: "10.0.0.300" }] },
      { ...spec, nodes: [{ name: "cp1", ip: "10.0.0.99" }] }, // same node, two IPs
      { ...spec, extraSans: ["not a name"] },
      { ...spec, dnsDomain: "bad_domain" },
      { ...spec, serviceSubnet: "10.96.0.0/33" },
      { ...spec, certValidityDays: 0 },
    ];
    for (const input of bad) {
      await expect(generateClusterPki(input), JSON.stringify(input)).rejects.toThrow(UserError);
    }
  });
});

describe("PKI on disk and loaded back", () => {
  test("keys are 0600, certificates 0644, directories 0700, nothing else left behind", async () => {
    const dir = path.join(await tempDir(), "pki");
    await writePki(dir, bundle);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    let files = 0;
    for (const entry of entries) {
      const full = path.join(entry.parentPath, entry.name);
      const mode = (await stat(full)).mode & 0o777;
      const relative = path.relative(dir, full);
      if (entry.isDirectory()) expect(mode, relative).toBe(0o700);
      else if (relative.endsWith(".key")) expect(mode, relative).toBe(0o600);
      else expect(mode, relative).toBe(0o644);
      if (entry.isFile()) files++;
    }
    expect(files).toBe(Object.keys(bundle).length);
    expect(await loadPki(dir)).toEqual(bundle);
  });

  test("an existing key with a loose mode is tightened on rewrite", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "apiserver.key"), bundle["apiserver.key"]!, { mode: 0o644 });
    await writePki(dir, { "apiserver.key": bundle["apiserver.key"]! });
    expect((await stat(path.join(dir, "apiserver.key"))).mode & 0o777).toBe(0o600);
  });

  test("a cluster's CAs are never replaced", async () => {
    const dir = await tempDir();
    await writePki(dir, bundle);
    const other = await generateClusterPki(spec);
    await expect(writePki(dir, other)).rejects.toThrow(/refusing to replace ca\.crt/);
    // Nothing at all was written: not even the leaves that came before the roots.
    expect(await loadPki(dir)).toEqual(bundle);
  });

  test("paths outside the layout are refused", async () => {
    const dir = await tempDir();
    await expect(writePki(dir, { "../outside.key": "x" })).rejects.toThrow(/outside the PKI layout/);
    await expect(writePki(dir, { "/etc/evil.crt": "x" })).rejects.toThrow(/outside the PKI layout/);
    expect(await readdir(dir)).toEqual([]);
  });

  test("nodes join later from the same CAs, which never change", async () => {
    const dir = await tempDir();
    await writePki(dir, bundle);
    const caBefore = await readFile(path.join(dir, "ca.crt"), "utf8");
    const caKeyBefore = await readFile(path.join(dir, "ca.key"), "utf8");

    const first = await addNode(dir, { name: "worker2", ip: "172.18.0.5" });
    const second = await addNode(dir, { name: "worker3", ip: "fd00::7" });
    expect(Object.keys(first).sort()).toEqual([
      "nodes/worker2/kubelet-client.crt",
      "nodes/worker2/kubelet-client.key",
      "nodes/worker2/kubelet.crt",
      "nodes/worker2/kubelet.key",
    ]);
    expect(await readFile(path.join(dir, "ca.crt"), "utf8")).toBe(caBefore);
    expect(await readFile(path.join(dir, "ca.key"), "utf8")).toBe(caKeyBefore);

    const ca = new X509Certificate(caBefore);
    for (const [issued, name] of [
      [first, "worker2"],
      [second, "worker3"],
    ] as const) {
      const onDisk = await readFile(path.join(dir, `nodes/${name}/kubelet-client.crt`), "utf8");
      expect(onDisk).toBe(issued[`nodes/${name}/kubelet-client.crt`]);
      expect(new X509Certificate(onDisk).verify(ca.publicKey)).toBe(true);
      expect(new X509Certificate(onDisk).subject).toBe(`O=system:nodes\nCN=system:node:${name}`);
      expect((await stat(path.join(dir, `nodes/${name}/kubelet.key`))).mode & 0o777).toBe(0o600);
    }
    expect(sans(`nodes/worker3/kubelet.crt`, second)).toContain("IP Address:FD00:0:0:0:0:0:0:7");
  });

  test("adding a node to a directory without a PKI says so", async () => {
    const dir = await tempDir();
    await expect(addNode(dir, { name: "w", ip: "10.0.0.2" })).rejects.toThrow(/no cluster PKI/);
    await writePki(dir, { "ca.crt": bundle["ca.crt"]! });
    await expect(addNode(dir, { name: "w", ip: "10.0.0.2" })).rejects.toThrow(/incomplete: ca\.key/);
  });

  test("a CA key that does not belong to its certificate is refused", async () => {
    const broken = { ...bundle, "etcd/ca.key": bundle["ca.key"]! };
    await expect(casFromBundle(broken, "here")).rejects.toThrow(/etcd\/ca\.crt key does not match/);
    const otherPub = createPublicKey(bundle["apiserver.crt"]!).export({ type: "spki", format: "pem" }).toString();
    await expect(casFromBundle({ ...bundle, "sa.pub": otherPub })).rejects.toThrow(/do not form a key pair/);
    await expect(casFromBundle({ ...bundle, "sa.pub": "garbage" })).rejects.toThrow(/do not form a key pair/);
    await expect(casFromBundle(bundle)).resolves.toBeDefined();
  });

  test("CAs kept in other key formats (RSA PKCS#1, EC SEC 1) still sign", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaCa = await x509.X509CertificateGenerator.createSelfSigned({
      name: "CN=rsa-ca",
      keys: {
        privateKey: await webcrypto.subtle.importKey(
          "pkcs8",
          rsa.privateKey.export({ type: "pkcs8", format: "der" }),
          { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
          false,
          ["sign"],
        ),
        publicKey: await webcrypto.subtle.importKey(
          "spki",
          rsa.publicKey.export({ type: "spki", format: "der" }),
          { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
          true,
          ["verify"],
        ),
      },
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const sec1 = createPrivateKey(bundle["ca.key"]!).export({ type: "sec1", format: "pem" }).toString();
    expect(sec1).toContain("BEGIN EC PRIVATE KEY");
    const cas = await casFromBundle({
      ...bundle,
      "ca.key": sec1,
      "front-proxy-ca.crt": rsaCa.toString("pem"),
      "front-proxy-ca.key": rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    });
    const issued = await generateClusterPki(spec, { cas, now: NOW });
    expect(cert("front-proxy-client.crt", issued).verify(new X509Certificate(rsaCa.toString("pem")).publicKey)).toBe(true);
    expect(cert("identities/admin.crt", issued).verify(cert("ca.crt").publicKey)).toBe(true);
  });

  test("ensureClusterPki keeps the CAs and re-issues the rest", async () => {
    const dir = await tempDir();
    const created = await ensureClusterPki(dir, spec, { now: NOW });
    const again = await ensureClusterPki(dir, { ...spec, extraSans: ["other.example.test"] }, { now: NOW });
    for (const root of ["ca.crt", "ca.key", "front-proxy-ca.key", "etcd/ca.key", "sa.key", "sa.pub"]) {
      expect(again[root], root).toBe(created[root]);
    }
    expect(again["apiserver.crt"]).not.toBe(created["apiserver.crt"]);
    expect(sans("apiserver.crt", again)).toContain("DNS:other.example.test");
    expect(await loadPki(dir)).toEqual(again);
  });
});
