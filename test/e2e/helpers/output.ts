import type { Readable } from "node:stream";

/**
 * Resolves once `stream` has printed a line matching `pattern` (output is line by line under CI=true),
 * with everything printed so far; rejects when the stream ends first or after `timeoutMs`.
 */
export function waitForLine(stream: Readable, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      if (err) reject(err);
      else resolve(seen);
    };
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (seen.split("\n").some((line) => pattern.test(line))) done();
    };
    const onEnd = () => done(new Error(`output ended before a line matched ${pattern}:\n${seen}`));
    const timer = setTimeout(() => done(new Error(`no line matched ${pattern} within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    stream.on("data", onData);
    stream.once("end", onEnd);
  });
}
