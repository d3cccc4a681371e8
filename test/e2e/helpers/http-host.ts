import http from "node:http";
import https from "node:https";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { eventually } from "../../helpers/poll.js";

export interface HostAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The certificate the server presented (HTTPS only). */
  certificate?: PeerCertificate;
}

export interface HostRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Over HTTPS with SNI for the host, trusting only `ca`; without it, trusting any certificate. */
  tls?: { ca?: string };
  timeoutMs?: number;
}

/**
 * One request from the host to 127.0.0.1:port with a Host header, as a name-based virtual host sees a
 * browser's request. Redirects are not followed: they are answers too.
 */
export function requestWithHost(port: number, host: string, path = "/", req: HostRequest = {}): Promise<HostAnswer> {
  const { tls, timeoutMs = 10_000 } = req;
  return new Promise((resolve, reject) => {
    const options = {
      host: "127.0.0.1",
      port,
      path,
      method: req.method ?? "GET",
      headers: { ...req.headers, Host: host },
      timeout: timeoutMs,
    };
    const onResponse = (res: http.IncomingMessage) => {
      let body = "";
      const certificate = tls ? (res.socket as TLSSocket).getPeerCertificate() : undefined;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, ...(certificate ? { certificate } : {}) }));
      res.on("error", reject);
    };
    const request = tls
      ? https.request(
          { ...options, servername: host, agent: false, ...(tls.ca ? { ca: tls.ca } : { rejectUnauthorized: false }) },
          onResponse,
        )
      : http.request({ ...options, agent: false }, onResponse);
    request.on("timeout", () =>
      request.destroy(new Error(`${options.method} ${host}${path} on port ${port}: no answer within ${timeoutMs} ms`)),
    );
    request.on("error", reject);
    request.end();
  });
}

/** A GET through `requestWithHost`. */
export function getWithHost(port: number, host: string, path = "/", tls?: { ca: string }, timeoutMs = 10_000): Promise<HostAnswer> {
  return requestWithHost(port, host, path, { tls, timeoutMs });
}

/**
 * The body behind `host` + `path` on the host's `port` (an ingress's), once it answers 200: routes appear
 * a moment after their objects.
 */
export function answerWithHost(port: number, host: string, path = "/", timeoutMs = 120_000): Promise<string> {
  return eventually(
    `${host}${path} to answer 200 on port ${port}`,
    async () => {
      const r = await getWithHost(port, host, path);
      if (r.status !== 200) throw new Error(`${host}${path}: status ${r.status}: ${r.body}`);
      return r.body.trim();
    },
    { timeoutMs, intervalMs: 500 },
  );
}
