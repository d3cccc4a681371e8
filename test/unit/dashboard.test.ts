import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostCaBundle } from "../../src/artifacts/images.js";
import { ADDON_IMAGES, imageRefs, KUBE_WEB_VIEW_VERSION, NODE_IMAGES, SUPPORTED } from "../../src/versions/versions.js";
import { parseDashboardPort } from "../../src/day2/dashboard.js";
import { UserError } from "../../src/util/errors.js";

describe("kubeyard dashboard --port", () => {
  it("takes a port from 1 to 65535", () => {
    expect(parseDashboardPort("8080")).toBe(8080);
    expect(parseDashboardPort("1")).toBe(1);
    expect(parseDashboardPort("65535")).toBe(65535);
  });

  it("refuses anything else, naming the flag, the value and what is accepted", () => {
    for (const bad of ["0", "65536", "-1", "80.5", "http", ""]) {
      expect(() => parseDashboardPort(bad)).toThrow(UserError);
      expect(() => parseDashboardPort(bad)).toThrow(`--port: got "${bad}", want a port number from 1 to 65535`);
    }
  });
});

describe("the kube-web-view image", () => {
  it("is an addon image named under localhost/kubeyard/, not part of the node image", () => {
    expect(ADDON_IMAGES).toContain("kubeWebView");
    expect(NODE_IMAGES).not.toContain("kubeWebView");
    for (const v of SUPPORTED) expect(imageRefs(v).kubeWebView).toBe(`localhost/kubeyard/kube-web-view:${KUBE_WEB_VIEW_VERSION}`);
  });

  it("installs only exact versions, each with sha256 hashes, kube-web-view at the version the image is named for", async () => {
    const dir = path.resolve("images/kube-web-view");
    for (const file of ["requirements.txt", "build-requirements.txt"]) {
      const text = await readFile(path.join(dir, file), "utf8");
      const entries = text
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n")
        .split(/\n(?=\S)/)
        .map((e) => e.trim())
        .filter(Boolean);
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        expect(entry).toMatch(/^[a-z0-9][a-z0-9._-]*==[0-9][^\s]* \\\n/);
        expect(entry).toMatch(/--hash=sha256:[0-9a-f]{64}/);
      }
      if (file === "requirements.txt") expect(entries.some((e) => e.startsWith(`kube-web-view==${KUBE_WEB_VIEW_VERSION} `))).toBe(true);
    }
  });

  describe("the host CA bundle passed to its build", () => {
    let tmp: string;
    afterAll(() => rm(tmp, { recursive: true, force: true }));

    it("is the bundle PIP_CERT or SSL_CERT_FILE names, skipping a named file that holds no certificate", async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), "kubeyard-ca-"));
      const bundle = path.join(tmp, "ca.pem");
      await writeFile(bundle, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      expect(await hostCaBundle({ PIP_CERT: bundle })).toContain("BEGIN CERTIFICATE");
      expect(await hostCaBundle({ SSL_CERT_FILE: bundle })).toContain("MIIB");
      const empty = path.join(tmp, "empty.pem");
      await writeFile(empty, "");
      expect(await hostCaBundle({ PIP_CERT: empty, SSL_CERT_FILE: bundle })).toContain("MIIB");
    });
  });
});
