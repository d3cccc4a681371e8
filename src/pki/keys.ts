import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { UserError } from "../util/errors.js";

// @peculiar/x509 signs through WebCrypto; Node's implementation runs key generation and signing
// on libuv's thread pool, so independent keys really are made in parallel.
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** ECDSA P-256: quick to generate, and accepted by Go's crypto/tls and kube-apiserver (ES256). */
const EC_P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC_P256, true, ["sign", "verify"]);
}

/** PEM text ending in a newline, so that files can be concatenated into bundles safely. */
export function toPem(der: ArrayBuffer, tag: string): string {
  return `${x509.PemConverter.encode(der, tag)}\n`;
}

/** PKCS#8 ("PRIVATE KEY"), which Go's tls.X509KeyPair, etcd and kube-apiserver all read. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return toPem(await subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** PKIX ("PUBLIC KEY"), the format of sa.pub. */
export async function publicKeyToPem(key: CryptoKey): Promise<string> {
  return toPem(await subtle.exportKey("spki", key), "PUBLIC KEY");
}

/** The algorithm a key signs with, as WebCrypto wants it for both import and signing. */
function signingParams(pem: string, what: string): EcKeyImportParams | RsaHashedImportParams {
  const publicKey = createPublicKey(pem);
  const details = publicKey.asymmetricKeyDetails ?? {};
  const keyType = publicKey.asymmetricKeyType;
  if (keyType === "ec") {
    const curve = { prime256v1: "P-256", secp384r1: "P-384" }[details.namedCurve ?? ""];
    if (curve) return { name: "ECDSA", namedCurve: curve };
  }
  if (keyType === "rsa") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  throw new UserError(
    `${what} is a ${keyType ?? "unknown"} key${details.namedCurve ? ` on ${details.namedCurve}` : ""}, which kubeyard cannot sign with`,
    "use an ECDSA P-256/P-384 or RSA key",
  );
}

/**
 * Reads a PEM private key (PKCS#8, SEC 1 or PKCS#1) into a WebCrypto signing key. `what` names
 * the file in errors; the key material itself never appears in one.
 */
export async function importPrivateKeyPem(pem: string, what: string): Promise<CryptoKey> {
  let pkcs8: Buffer;
  try {
    pkcs8 = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
  } catch {
    throw new UserError(`${what} is not a readable PEM private key`, "restore it from a backup or recreate the cluster");
  }
  return subtle.importKey("pkcs8", new Uint8Array(pkcs8), signingParams(pem, what), false, ["sign"]);
}

/** The signature algorithm a certificate signed by `key` uses. */
export function signatureAlgorithm(key: CryptoKey): Algorithm | EcdsaParams {
  const algorithm = key.algorithm as EcKeyAlgorithm | RsaHashedKeyAlgorithm;
  if (algorithm.name === "ECDSA") {
    const hash = (algorithm as EcKeyAlgorithm).namedCurve === "P-384" ? "SHA-384" : "SHA-256";
    return { name: "ECDSA", hash } as EcdsaParams;
  }
  return { name: algorithm.name, hash: "SHA-256" } as Algorithm;
}
