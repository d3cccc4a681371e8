import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";

export type DnsTransport = "udp" | "tcp";

export interface DnsAnswer {
  /** The response code: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ... */
  rcode: number;
  /** The IPv4 addresses of the answer's A records. */
  addresses: string[];
}

export const RCODE_NAMES: Readonly<Record<number, string>> = { 0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED" };

/**
 * One A query for `name` to the DNS server at host:port, over UDP or TCP (RFC 1035). Node's own
 * resolver speaks UDP only and hides the response code, and a check of a server needs both.
 */
export function queryA(host: string, port: number, name: string, transport: DnsTransport, timeoutMs = 3_000): Promise<DnsAnswer> {
  const id = randomInt(0x10000);
  const query = encodeQuery(id, name);
  const exchange = transport === "udp" ? exchangeUdp(host, port, query) : exchangeTcp(host, port, query);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no DNS answer from ${host}:${port} over ${transport.toUpperCase()} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([exchange.promise, timeout])
    .then((reply) => decodeReply(reply, id))
    .finally(() => {
      clearTimeout(timer);
      exchange.close();
    });
}

function encodeQuery(id: number, name: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4); // one question
  const labels = name.split(".").filter((l) => l !== "");
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(1, 0); // type A
  tail.writeUInt16BE(1, 2); // class IN
  return Buffer.concat([header, qname, tail]);
}

function decodeReply(msg: Buffer, id: number): DnsAnswer {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || !(msg[2]! & 0x80)) throw new Error("the DNS server sent something that is not the answer to the query");
  const rcode = msg[3]! & 0x0f;
  const questions = msg.readUInt16BE(4);
  const answers = msg.readUInt16BE(6);
  let at = 12;
  for (let i = 0; i < questions; i++) at = skipName(msg, at) + 4;
  const addresses: string[] = [];
  for (let i = 0; i < answers; i++) {
    at = skipName(msg, at);
    const type = msg.readUInt16BE(at);
    const length = msg.readUInt16BE(at + 8);
    if (type === 1 && length === 4) addresses.push([...msg.subarray(at + 10, at + 14)].join("."));
    at += 10 + length;
  }
  return { rcode, addresses };
}

/** The offset after a (possibly compressed) name starting at `at`. */
function skipName(msg: Buffer, at: number): number {
  for (;;) {
    const len = msg[at];
    if (len === undefined) throw new Error("the DNS answer is cut short");
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2;
    at += 1 + len;
  }
}

interface Exchange {
  promise: Promise<Buffer>;
  close: () => void;
}

function exchangeUdp(host: string, port: number, query: Buffer): Exchange {
  const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
  const promise = new Promise<Buffer>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("message", resolve);
    socket.send(query, port, host);
  });
  return { promise, close: () => socket.close() };
}

/** Over TCP each message is preceded by its length in two bytes. */
function exchangeTcp(host: string, port: number, query: Buffer): Exchange {
  const socket = net.connect({ host, port });
  const promise = new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`the DNS server at ${host}:${port} closed the TCP connection without an answer`)));
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
    });
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    socket.write(Buffer.concat([length, query]));
  });
  return { promise, close: () => socket.destroy() };
}
