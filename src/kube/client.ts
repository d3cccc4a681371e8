import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { UserError } from "../util/errors.js";

export interface ClientCredentials {
  /** The API server's URL, e.g. "https://127.0.0.1:6443". */
  server: string;
  /** The cluster CA that signed the API server's certificate. */
  caPem: string;
  /** A client certificate the API server trusts, and its key. */
  certPem: string;
  keyPem: string;
}

const base64 = (pem: string) => Buffer.from(pem, "utf8").toString("base64");

/**
 * A KubeConfig holding exactly one cluster, user and context, built in memory: kubeyard talks to
 * its own clusters with the PKI it made, without reading or writing any kubeconfig file.
 */
export function kubeClient(opts: ClientCredentials): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "kubeyard", server: opts.server, caData: base64(opts.caPem), skipTLSVerify: false }],
    users: [{ name: "kubeyard", certData: base64(opts.certPem), keyData: base64(opts.keyPem) }],
    contexts: [{ name: "kubeyard", cluster: "kubeyard", user: "kubeyard" }],
    currentContext: "kubeyard",
  });
  return kc;
}

/** A KubeConfig from a kubeconfig file, switched to `context` when one is named. */
export function kubeClientFromKubeconfigFile(file: string, context?: string): KubeConfig {
  if (!existsSync(file)) {
    throw new UserError(`kubeconfig ${file} does not exist`, "give the path of an existing kubeconfig file");
  }
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UserError(
        `kubeconfig ${file} has no context "${context}"`,
        known.length ? `use one of: ${known.join(", ")}` : "the file has no contexts at all",
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new UserError(`kubeconfig ${file} has no current cluster`, "name a context that exists in the file");
  }
  return kc;
}
