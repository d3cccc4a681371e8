import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import packet from "dns-packet";

export type DnsTransport = "udp" | "tcp";

export interface DnsAnswer {
  /** The response code: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ... */
  rcode: number;
  /** The IPv4 addresses of the answer's A records. */
  addresses: string[];
}

export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
};

/**
 * One A query for `name` to the DNS server at host:port, over UDP or TCP (RFC 1035). Node's own
 * resolver speaks UDP only and hides the response code, and a check of a server needs both.
 */
export function queryA(host: string, port: number, name: string, transport: DnsTransport, timeoutMs = 3_000): Promise<DnsAnswer> {
  const id = randomInt(0x10000);
  const query = queryPacket(id, name);
  const exchange = transport === "udp" ? exchangeUdp(host, port, query) : exchangeTcp(host, port, query);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no DNS answer from ${host}:${port} over ${transport.toUpperCase()} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([exchange.promise, timeout])
    .then((reply) => decodeReply(reply, id))
    .finally(() => {
      clearTimeout(timer);
      exchange.close();
    });
}

function queryPacket(id: number, name: string): packet.Packet {
  return { type: "query", id, flags: packet.RECURSION_DESIRED, questions: [{ type: "A", name }] };
}

function decodeReply(msg: Buffer, id: number): DnsAnswer {
  let reply: packet.DecodedPacket;
  try {
    reply = packet.decode(msg);
  } catch {
    throw new Error("the DNS answer is cut short or malformed");
  }
  if (reply.id !== id || reply.type !== "response") throw new Error("the DNS server sent something that is not the answer to the query");
  const rcode = (reply.flags ?? 0) & 0x0f;
  const addresses = (reply.answers ?? []).flatMap((a) => (a.type === "A" ? [a.data] : []));
  return { rcode, addresses };
}

interface Exchange {
  promise: Promise<Buffer>;
  close: () => void;
}

function exchangeUdp(host: string, port: number, query: packet.Packet): Exchange {
  const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
  const promise = new Promise<Buffer>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("message", resolve);
    socket.send(packet.encode(query), port, host);
  });
  return { promise, close: () => socket.close() };
}

/** Over TCP each message is preceded by its length in two bytes. */
function exchangeTcp(host: string, port: number, query: packet.Packet): Exchange {
  const socket = net.connect({ host, port });
  const promise = new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`the DNS server at ${host}:${port} closed the TCP connection without an answer`)));
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
    });
    socket.write(packet.streamEncode(query));
  });
  return { promise, close: () => socket.destroy() };
}
