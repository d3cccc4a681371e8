import type { LookupAddress } from "node:dns";
import type { Resolver } from "node:dns/promises";
import http from "node:http";

/**
 * A GET of `url` whose host name is looked up with `resolver` (instead of the system's), as a
 * browser on a host whose resolver sends that zone to the resolver's server would make it.
 */
export function getVia(resolver: Resolver, url: string, timeoutMs = 10_000): Promise<{ status: number; body: string; address: string }> {
  return new Promise((resolve, reject) => {
    let address = "";
    const lookup = (hostname: string, opts: { all?: boolean }, done: (...args: unknown[]) => void) => {
      resolver.resolve4(hostname).then(
        (found) => {
          address = found[0]!;
          if (opts.all) done(null, [{ address, family: 4 } satisfies LookupAddress]);
          else done(null, address, 4);
        },
        (err: unknown) => done(err),
      );
    };
    const req = http.get(url, { lookup: lookup as never, timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, address }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
