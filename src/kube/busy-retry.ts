import { setTimeout as sleep } from "node:timers/promises";
import pRetry from "p-retry";
import { KubeApiError } from "./object-api.js";

// The answers by which an API server says "not now" rather than "no": its own request deadline passed (a
// starved or emulated host, etcd slow to sync), or priority and fairness turned the request away.
const BUSY_CODES = new Set([429, 503, 504]);
const BUSY_REASONS = new Set(["ServerTimeout", "Timeout", "TooManyRequests"]);

/** Whether the API server refused `err`'s request for want of time or capacity, so the same request may succeed later. */
export function isBusyApiError(err: unknown): boolean {
  return err instanceof KubeApiError && (BUSY_CODES.has(err.code) || (err.reason !== undefined && BUSY_REASONS.has(err.reason)));
}

/**
 * Whether the API server gave up waiting for its own handler: it answers 504 at its deadline, but the
 * handler goes on working (validating a CRD's CEL rules, say) until it reaches its next storage call.
 */
function isDeadlineAnswer(err: unknown): boolean {
  return err instanceof KubeApiError && (err.code === 504 || err.reason === "Timeout");
}

/**
 * Sends an idempotent request (a server-side apply) again while the API server answers that it is too busy to
 * finish it, for up to seven tries over about a minute of pauses; any other error ends it at once. After a
 * deadline answer it first waits as long as that try lasted: the abandoned handler is still at work on the
 * server, and a new try sent at once would share the CPU with it, so on a starved host every try would
 * outlast the deadline in turn.
 */
export function retryWhileBusy<T>(request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let began = 0;
  return pRetry(
    () => {
      began = performance.now();
      return request();
    },
    {
      retries: 6,
      minTimeout: 1_000,
      factor: 2,
      maxTimeout: 30_000,
      randomize: false,
      shouldRetry: ({ error }) => isBusyApiError(error),
      onFailedAttempt: async ({ error, retriesLeft }) => {
        if (retriesLeft > 0 && isDeadlineAnswer(error)) await sleep(performance.now() - began, undefined, signal ? { signal } : {});
      },
      ...(signal ? { signal } : {}),
    },
  );
}
