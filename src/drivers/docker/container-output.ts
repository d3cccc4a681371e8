import type Docker from "dockerode";

/**
 * The last lines a container wrote. Without a TTY the engine frames each chunk with an 8-byte
 * header (stream, three zero bytes, big-endian length); the frames' payloads are the text.
 */
export async function lastOutput(container: Docker.Container, lines: number): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
  return unframe(raw).trimEnd();
}

function unframe(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  // Anything that does not parse as frames (a TTY container) is plain text already.
  if (at < buf.length) parts.push(buf.subarray(at));
  return Buffer.concat(parts).toString("utf8");
}
