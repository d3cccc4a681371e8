import http from "node:http";
import https from "node:https";
import type { PeerCertificate } from "node:tls";

export interface HostAnswer {
  status: number;
  body: string;
  /** The certificate the server presented (HTTPS only). */
  certificate?: PeerCertificate;
}

/**
 * One GET from the host to 127.0.0.1:port with a Host header, as a name-based virtual host sees a
 * browser's request. With `tls`, over HTTPS with SNI for `host`, trusting only `tls.ca`.
 */
export function getWithHost(port: number, host: string, path = "/", tls?: { ca: string }, timeoutMs = 10_000): Promise<HostAnswer> {
  return new Promise((resolve, reject) => {
    const options = { host: "127.0.0.1", port, path, headers: { Host: host }, timeout: timeoutMs };
    const onResponse = (res: http.IncomingMessage) => {
      let body = "";
      const certificate = tls ? (res.socket as import("node:tls").TLSSocket).getPeerCertificate() : undefined;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ...(certificate ? { certificate } : {}) }));
      res.on("error", reject);
    };
    const req = tls
      ? https.get({ ...options, servername: host, ca: tls.ca, agent: false }, onResponse)
      : http.get({ ...options, agent: false }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`GET ${host}${path} on port ${port}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
