import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { renderKubeconfig } from "../../src/kubeconfig/index.js";

const CA = "-----BEGIN CERTIFICATE-----\nMIIca\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIclient\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHckey\n-----END EC PRIVATE KEY-----\n";

const decode = (value: unknown) => Buffer.from(String(value), "base64").toString("utf8");

describe("renderKubeconfig", () => {
  it("renders one current context with the certificates embedded as base64", () => {
    const text = renderKubeconfig({
      name: "dev",
      server: "https://127.0.0.1:40123",
      caData: CA,
      certData: Buffer.from(CERT),
      keyData: KEY,
    });
    const config = YAML.parse(text, { version: "1.1" });
    expect(config.apiVersion).toBe("v1");
    expect(config.kind).toBe("Config");
    expect(config["current-context"]).toBe("dev");
    expect(config.clusters).toHaveLength(1);
    expect(config.clusters[0].name).toBe("dev");
    expect(config.clusters[0].cluster.server).toBe("https://127.0.0.1:40123");
    expect(decode(config.clusters[0].cluster["certificate-authority-data"])).toBe(CA);
    expect(config.users[0].name).toBe("dev");
    expect(decode(config.users[0].user["client-certificate-data"])).toBe(CERT);
    expect(decode(config.users[0].user["client-key-data"])).toBe(KEY);
    expect(config.contexts[0]).toEqual({ name: "dev", context: { cluster: "dev", user: "dev" } });
  });

  it("carries no ownership mark, so a user merging it by hand owns what they merge", () => {
    const text = renderKubeconfig({ name: "dev", server: "https://127.0.0.1:1", caData: CA, certData: CERT, keyData: KEY });
    expect(text).not.toContain("extensions");
  });

  it("never folds the long base64 lines", () => {
    const longCa = CA.repeat(50);
    const text = renderKubeconfig({ name: "dev", server: "https://127.0.0.1:1", caData: longCa, certData: CERT, keyData: KEY });
    expect(text).toContain(`certificate-authority-data: ${Buffer.from(longCa).toString("base64")}\n`);
  });

  it("quotes a profile name that kubectl's YAML 1.1 would read as a boolean", () => {
    const text = renderKubeconfig({ name: "on", server: "https://127.0.0.1:1", caData: CA, certData: CERT, keyData: KEY });
    expect(YAML.parse(text, { version: "1.1" })["current-context"]).toBe("on");
  });
});
