import { createPublicKey } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { generateKeyPair, importPrivateKeyPem, privateKeyToPem, signatureAlgorithm, toPem } from "./keys.js";
import { UserError } from "../util/errors.js";

/** A certificate authority that can sign: its certificate and private key, parsed and as PEM. */
export interface CertAuthority {
  cert: x509.X509Certificate;
  key: CryptoKey;
  certPem: string;
  keyPem: string;
}

/** A freshly issued certificate and its private key, both PEM. */
export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

/** What the holder of a leaf certificate may use it for (extendedKeyUsage). */
export type CertUsage = "client" | "server" | "client+server";

export interface LeafRequest {
  commonName: string;
  organizations?: readonly string[];
  usage: CertUsage;
  /** Subject alternative names; callers pass them already validated and de-duplicated. */
  dnsNames?: readonly string[];
  ips?: readonly string[];
  validityDays: number;
  now: Date;
}

/**
 * Host and node containers do not share a clock perfectly; a certificate that becomes valid a
 * few minutes "in the past" is accepted everywhere at once.
 */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

function subject(commonName: string, organizations: readonly string[] = []): x509.JsonName {
  // One attribute per RDN, organizations first, the order Go's pkix.Name produces.
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

export async function createCa(commonName: string, now: Date, validityYears = 10): Promise<CertAuthority> {
  const keys = await generateKeyPair();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + validityYears);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject(commonName),
    keys,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    signingAlgorithm: signatureAlgorithm(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert,
    key: keys.privateKey,
    certPem: toPem(cert.rawData, "CERTIFICATE"),
    keyPem: await privateKeyToPem(keys.privateKey),
  };
}

/** Reads a CA back from its PEM files, refusing a pair whose key does not belong to the certificate. */
export async function loadCa(certPem: string, keyPem: string, what: string): Promise<CertAuthority> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    throw new UserError(`${what} certificate is not a readable PEM certificate`, "restore it from a backup or recreate the cluster");
  }
  const key = await importPrivateKeyPem(keyPem, `${what} key`);
  const fromKey = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  if (!Buffer.from(cert.publicKey.rawData).equals(fromKey)) {
    throw new UserError(`${what} key does not match its certificate`, "restore both files from the same backup or recreate the cluster");
  }
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new UserError(`${what} certificate is not a CA certificate`, "restore it from a backup or recreate the cluster");
  }
  return { cert, key, certPem, keyPem };
}

const EXTENDED_USAGES: Record<CertUsage, x509.ExtendedKeyUsage[]> = {
  client: [x509.ExtendedKeyUsage.clientAuth],
  server: [x509.ExtendedKeyUsage.serverAuth],
  "client+server": [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
};

async function authorityKeyId(ca: CertAuthority): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey);
}

/** Issues a leaf certificate with a new key, signed by `ca`. */
export async function issueCert(ca: CertAuthority, request: LeafRequest): Promise<IssuedCert> {
  const keys = await generateKeyPair();
  // A leaf never outlives its CA: verifiers would reject it for its last stretch anyway.
  const wanted = request.now.getTime() + request.validityDays * DAY_MS;
  const notAfter = new Date(Math.min(wanted, ca.cert.notAfter.getTime()));
  const sans: x509.JsonGeneralNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(request.ips ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(EXTENDED_USAGES[request.usage]),
    await authorityKeyId(ca),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    // The issuer is the CA's subject exactly as encoded: Go matches issuers byte for byte.
    issuer: ca.cert.subjectName,
    subject: subject(request.commonName, request.organizations),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: signatureAlgorithm(ca.key),
    notBefore: new Date(request.now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    extensions,
  });
  return { certPem: toPem(cert.rawData, "CERTIFICATE"), keyPem: await privateKeyToPem(keys.privateKey) };
}
