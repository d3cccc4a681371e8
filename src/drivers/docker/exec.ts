import { setTimeout as sleep } from "node:timers/promises";
import { Writable } from "node:stream";
import type Docker from "dockerode";
import type { AttachedIO, ExecResult } from "../types.js";

/**
 * Runs `cmd` in a running container the way `docker exec -i` does: stdout and stderr come back
 * separately (the engine multiplexes them on one connection when there is no TTY) and `stdin`, when
 * given (text, bytes or a stream), is written and then closed, so `kubectl apply -f -` or `cat` see end-of-file.
 */
export async function execIn(
  container: Docker.Container,
  modem: { demuxStream(s: NodeJS.ReadableStream, out: NodeJS.WritableStream, err: NodeJS.WritableStream): void },
  cmd: string[],
  opts: { stdin?: string | Buffer | NodeJS.ReadableStream; env?: Record<string, string> } = {},
): Promise<ExecResult> {
  const withStdin = opts.stdin !== undefined;
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
  });
  const stream = (await exec.start({ hijack: true, stdin: withStdin })) as NodeJS.ReadWriteStream;
  const stdout = collector();
  const stderr = collector();
  const finished = streamDone(stream);
  modem.demuxStream(stream, stdout.sink, stderr.sink);
  const input = opts.stdin;
  if (typeof input === "string" || Buffer.isBuffer(input)) stream.end(input);
  else if (input) {
    // Streamed (an image archive, say): the command reads while it is still being produced.
    input.on("error", (err: Error) => (stream as unknown as { destroy(e: Error): void }).destroy(err));
    input.pipe(stream);
  }
  await finished;
  return { exitCode: await exitCodeOf(exec), stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Runs `cmd` attached to the caller's streams, as `docker exec -i` (or `-it` with `io.tty`) does:
 * input is forwarded until it ends (then the command's stdin is closed), output is written as it
 * comes, and the command's exit code is returned. With a TTY the terminal's size follows the caller's.
 */
export async function execAttachedIn(
  container: Docker.Container,
  modem: { demuxStream(s: NodeJS.ReadableStream, out: NodeJS.WritableStream, err: NodeJS.WritableStream): void },
  cmd: string[],
  io: AttachedIO,
): Promise<number> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: io.tty,
    Env: Object.entries(io.env ?? {}).map(([k, v]) => `${k}=${v}`),
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: io.tty })) as NodeJS.ReadWriteStream;
  const finished = streamDone(stream);
  if (io.tty) stream.pipe(io.stdout, { end: false });
  else modem.demuxStream(stream, io.stdout, io.stderr);

  const onData = (chunk: Buffer) => stream.write(chunk);
  const onEnd = () => stream.end();
  io.stdin.on("data", onData);
  io.stdin.on("end", onEnd);
  io.stdin.resume();

  let stopResizing = () => undefined as void;
  if (io.tty && io.size) {
    const resize = () => {
      const { rows, columns } = io.size!();
      if (rows && columns) exec.resize({ h: rows, w: columns }).catch(() => undefined);
    };
    resize();
    stopResizing = io.onResize?.(resize) ?? stopResizing;
  }
  try {
    await finished;
  } finally {
    stopResizing();
    io.stdin.off("data", onData);
    io.stdin.off("end", onEnd);
    io.stdin.pause();
  }
  return exitCodeOf(exec);
}

/** Settles when the exec connection closes. */
function streamDone(stream: NodeJS.ReadWriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // A command that exits without reading all of its input closes the connection under our write.
      if (err.code === "EPIPE" || err.code === "ECONNRESET") resolve();
      else reject(err);
    });
  });
}

/** The output streams close as the process exits, a moment before the engine records its exit code. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await sleep(wait);
  }
}

function collector() {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString("utf8") };
}
