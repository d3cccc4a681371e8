import net from "node:net";

/** A TCP port held open on 127.0.0.1 by this process, as another program on the host would hold it. */
export interface HeldPort {
  port: number;
  close: () => Promise<void>;
}

export function holdPort(host = "127.0.0.1"): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((sock) => sock.destroy());
    srv.once("error", reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = srv.address() as net.AddressInfo;
      resolve({ port, close: () => new Promise<void>((done) => srv.close(() => done())) });
    });
  });
}
