import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Kubectl } from "./kubectl.js";
import { kubectlOk } from "./kubectl.js";

/**
 * A TLS Secret `name` in `namespace` holding a fresh self-signed certificate for `host` (its CN and
 * only DNS name), made by openssl; returns the certificate's PEM, for a client to trust.
 */
export async function tlsSecret(user: Kubectl, namespace: string, name: string, host: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-e2e-tls-"));
  try {
    const [key, crt] = [path.join(dir, "tls.key"), path.join(dir, "tls.crt")];
    const subject = ["-subj", `/CN=${host}`, "-addext", `subjectAltName=DNS:${host}`];
    await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key, "-out", crt, ...subject]);
    await kubectlOk(user, "-n", namespace, "create", "secret", "tls", name, `--cert=${crt}`, `--key=${key}`);
    return await readFile(crt, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
