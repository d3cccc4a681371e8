import dgram from "node:dgram";
import type { Route, Target } from "./route.js";

/** How long a UDP client's flow (and its upstream socket) lives without traffic. */
const IDLE_MS = 30_000;

interface Flow {
  upstream: dgram.Socket;
  target: Target;
  timer: NodeJS.Timeout;
}

/**
 * Listens on address:port for datagrams. Each client (address and port) gets a flow: one upstream
 * socket to one target node, so answers come back to the client from the address it sent to. A
 * flow idle for IDLE_MS is closed.
 */
export class UdpProxy {
  private readonly flows = new Map<string, Flow>();

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly route: Route,
  ) {
    socket.on("message", (msg, rinfo) => this.forward(msg, rinfo));
    socket.on("error", () => undefined);
  }

  static async listen(address: string, port: number, route: Route): Promise<UdpProxy> {
    const socket = dgram.createSocket({ type: "udp4" });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return new UdpProxy(socket, route);
  }

  get connections(): number {
    return this.flows.size;
  }

  private forward(msg: Buffer, client: dgram.RemoteInfo): void {
    const key = `${client.address}:${client.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      const target = this.route.admits(client.address) ? this.route.next() : undefined;
      if (!target) return;
      const upstream = dgram.createSocket({ type: "udp4" });
      upstream.on("message", (answer) => {
        this.touch(key);
        this.socket.send(answer, client.port, client.address);
      });
      upstream.on("error", () => this.end(key));
      flow = { upstream, target, timer: setTimeout(() => this.end(key), IDLE_MS) };
      this.flows.set(key, flow);
    }
    this.touch(key);
    flow.upstream.send(msg, flow.target.port, flow.target.host);
  }

  private touch(key: string): void {
    this.flows.get(key)?.timer.refresh();
  }

  private end(key: string): void {
    const flow = this.flows.get(key);
    if (!flow) return;
    this.flows.delete(key);
    clearTimeout(flow.timer);
    flow.upstream.close();
  }

  async close(): Promise<void> {
    for (const key of [...this.flows.keys()]) this.end(key);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
