import { createPublicKey } from "node:crypto";
import { createCa, loadCa, type CertAuthority } from "./issue.js";
import { generateKeyPair, privateKeyToPem, publicKeyToPem } from "./keys.js";
import { pkiPaths, rootMaterial, type CertKeyPaths, type PkiBundle } from "./layout.js";
import { UserError } from "../util/errors.js";

/**
 * Everything a cluster's trust is rooted in: the three CAs and the service-account signing key.
 * It is made once, when the cluster is created, and only ever loaded after that.
 */
export interface ClusterCas {
  ca: CertAuthority;
  frontProxyCa: CertAuthority;
  etcdCa: CertAuthority;
  serviceAccount: { keyPem: string; pubPem: string };
}

export interface CaOptions {
  /** Prefix of the CAs' common names, so users can tell clusters apart; default "kubeyard". */
  clusterName?: string;
  now?: Date;
}

export async function generateCas(options: CaOptions = {}): Promise<ClusterCas> {
  const name = options.clusterName ?? "kubeyard";
  const now = options.now ?? new Date();
  const [ca, frontProxyCa, etcdCa, saKeys] = await Promise.all([
    createCa(`${name}-ca`, now),
    createCa(`${name}-front-proxy-ca`, now),
    createCa(`${name}-etcd-ca`, now),
    generateKeyPair(),
  ]);
  const [keyPem, pubPem] = await Promise.all([privateKeyToPem(saKeys.privateKey), publicKeyToPem(saKeys.publicKey)]);
  return { ca, frontProxyCa, etcdCa, serviceAccount: { keyPem, pubPem } };
}

export function casToBundle(cas: ClusterCas): PkiBundle {
  const files: PkiBundle = {};
  const put = (paths: CertKeyPaths, ca: CertAuthority) => {
    files[paths.cert] = ca.certPem;
    files[paths.key] = ca.keyPem;
  };
  put(pkiPaths.ca, cas.ca);
  put(pkiPaths.frontProxyCa, cas.frontProxyCa);
  put(pkiPaths.etcdCa, cas.etcdCa);
  files[pkiPaths.serviceAccount.key] = cas.serviceAccount.keyPem;
  files[pkiPaths.serviceAccount.pub] = cas.serviceAccount.pubPem;
  return files;
}

/** Which root files a bundle lacks; all of them for a cluster that has no PKI yet. */
export function missingCaFiles(bundle: PkiBundle): string[] {
  return rootMaterial.filter((path) => bundle[path] === undefined);
}

/**
 * Reads the root material back out of a bundle (e.g. from {@link loadPki}), checking that each
 * key belongs to its certificate. `where` names the PKI in errors (usually its directory).
 */
export async function casFromBundle(bundle: PkiBundle, where = "the cluster PKI"): Promise<ClusterCas> {
  const missing = missingCaFiles(bundle);
  if (missing.length > 0) {
    throw new UserError(
      `${where} is incomplete: ${missing.join(", ")} missing`,
      "a cluster's CAs cannot be recreated without invalidating it; restore the files or delete and recreate the cluster",
    );
  }
  const load = (paths: CertKeyPaths) => loadCa(bundle[paths.cert]!, bundle[paths.key]!, `${where}: ${paths.cert}`);
  const [ca, frontProxyCa, etcdCa] = await Promise.all([load(pkiPaths.ca), load(pkiPaths.frontProxyCa), load(pkiPaths.etcdCa)]);
  const keyPem = bundle[pkiPaths.serviceAccount.key]!;
  const pubPem = bundle[pkiPaths.serviceAccount.pub]!;
  let matches = false;
  try {
    const fromKey = createPublicKey(keyPem).export({ type: "spki", format: "der" });
    matches = fromKey.equals(createPublicKey(pubPem).export({ type: "spki", format: "der" }));
  } catch {
    // Unreadable either way; reported below without echoing the contents.
  }
  if (!matches) {
    throw new UserError(
      `${where}: ${pkiPaths.serviceAccount.key} and ${pkiPaths.serviceAccount.pub} are unreadable or do not form a key pair`,
      "restore both files from the same backup or recreate the cluster",
    );
  }
  return { ca, frontProxyCa, etcdCa, serviceAccount: { keyPem, pubPem } };
}
