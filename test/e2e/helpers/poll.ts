import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` until it returns a value other than undefined, for the few things that cannot be
 * watched (an API server that is down, a process id inside a node). Bounded: after `timeoutMs` it
 * throws with the last thing `probe` saw, so a failure says what never happened.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`gave up waiting for ${what} after ${opts.timeoutMs} ms${last ? `: ${(last as Error).message ?? String(last)}` : ""}`);
    }
    await sleep(opts.intervalMs ?? 500);
  }
}
