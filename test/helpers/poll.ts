import { setTimeout as sleep } from "node:timers/promises";

export interface PollOptions {
  /** How long `what` may take; past it the wait fails, even while an attempt is still running. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Ends the wait at once with the signal's reason (a process it depends on has died, say). */
  signal?: AbortSignal;
}

/**
 * The one way the tests wait for something nothing can be watched for (a URL answering from the
 * host, an API server that is down, a process inside a node): retries `attempt` until it returns
 * without throwing, and returns what it returned. An attempt says "not yet" by throwing, best an
 * assertion, since the last such error is what a failure reports, after what never happened.
 */
export async function eventually<T>(what: string, attempt: () => T | Promise<T>, opts: PollOptions = {}): Promise<T> {
  const { timeoutMs = 120_000, intervalMs = 1_000, signal } = opts;
  const deadline = Date.now() + timeoutMs;
  const gaveUp = (why: string, cause: unknown) => new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s; ${why}`, { cause });
  let last: unknown;
  for (;;) {
    if (signal?.aborted) throw new Error(`gave up waiting for ${what}: ${messageOf(signal.reason)}`, { cause: signal.reason });
    const outcome = await withinDeadline(attempt, deadline);
    if ("value" in outcome) return outcome.value;
    if ("late" in outcome) {
      const before = last === undefined ? "" : `; the one before said: ${messageOf(last)}`;
      throw gaveUp(`the last attempt had not finished${before}`, last);
    }
    last = outcome.error;
    if (Date.now() >= deadline) throw gaveUp(`the last attempt said: ${messageOf(last)}`, last);
    await sleep(Math.min(intervalMs, deadline - Date.now()), undefined, { signal }).catch(() => undefined);
  }
}

type Outcome<T> = { value: T } | { error: unknown } | { late: true };

/** One attempt, raced against the deadline: a hung attempt must not hold the wait past it. */
async function withinDeadline<T>(attempt: () => T | Promise<T>, deadline: number): Promise<Outcome<T>> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      Promise.resolve()
        .then(attempt)
        .then(
          (value): Outcome<T> => ({ value }),
          (error: unknown): Outcome<T> => ({ error }),
        ),
      sleep(Math.max(0, deadline - Date.now()), { late: true } as const, { signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
