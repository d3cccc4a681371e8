import { setTimeout as sleep } from "node:timers/promises";
import { Writable } from "node:stream";
import type Docker from "dockerode";
import type { ExecResult } from "../types.js";

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
  const finished = new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // A command that exits without reading all of its input closes the connection under our write.
      if (err.code === "EPIPE" || err.code === "ECONNRESET") resolve();
      else reject(err);
    });
  });
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
