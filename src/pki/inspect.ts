import * as x509 from "@peculiar/x509";

/** When a PEM certificate expires (e.g. to warn before a long-lived cluster's certificates lapse). */
export function certNotAfter(certPem: string): Date {
  return new x509.X509Certificate(certPem).notAfter;
}

/** Whether a PEM certificate is expired or expires within `withinMs` of `now`. */
export function certExpiresSoon(certPem: string, withinMs: number, now: Date = new Date()): boolean {
  return certNotAfter(certPem).getTime() - now.getTime() <= withinMs;
}
