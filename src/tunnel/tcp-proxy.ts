import net from "node:net";
import type { Route } from "./route.js";

/**
 * Listens on address:port and joins every accepted connection to the route's next target. Each
 * direction may end on its own (half-close); when either socket closes, both are destroyed, so no
 * socket outlives its connection.
 */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly route: Route) {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
  }

  static async listen(address: string, port: number, route: Route): Promise<TcpProxy> {
    const proxy = new TcpProxy(route);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once("error", reject);
      proxy.server.listen({ host: address, port, exclusive: true, backlog: 1024 }, () => {
        proxy.server.off("error", reject);
        resolve();
      });
    });
    proxy.server.on("error", () => undefined);
    return proxy;
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  private accept(client: net.Socket): void {
    const target = this.route.admits(client.remoteAddress) ? this.route.next() : undefined;
    if (!target) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const done = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("error", done);
      s.on("close", done);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops listening and ends every open connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}
