import { setTimeout as sleep } from "node:timers/promises";
import { Watch, type KubeConfig } from "@kubernetes/client-node";
import { UserError } from "../util/errors.js";
import { combinedFieldSelector, isNotFound, KubeApiError, listObjects, objectApi, type ListQuery } from "./object-api.js";
import type { Verdict } from "./readiness.js";
import type { KubeObject } from "./types.js";

export interface WaitOptions {
  /** How long to wait before giving up; each wait has its own default. */
  timeoutMs?: number;
  /** Stops the wait early (Ctrl-C); the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with each newly observed state, in words (for a progress line). */
  onStatus?: (status: string) => void;
}

/** A wait that ran out of time: says what was awaited and what was last seen. */
export class WaitTimeoutError extends UserError {
  constructor(
    readonly what: string,
    readonly lastStatus: string,
    readonly timeoutMs: number,
    hint?: string,
  ) {
    super(`timed out after ${formatDuration(timeoutMs)} waiting for ${what}; last observed: ${lastStatus}`, hint);
    this.name = "WaitTimeoutError";
  }
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** How the wait was given up: its own deadline, or the caller's signal. */
function stopReason(signal: AbortSignal): unknown {
  return signal.reason;
}

/**
 * Creates a deadline signal merged with the caller's, and the error a timeout turns into. The
 * timeout error is built lazily so it can carry the last status seen.
 */
function deadline(
  opts: WaitOptions,
  defaultMs: number,
): { signal: AbortSignal; timeoutMs: number; timedOut: () => boolean; dispose: () => void } {
  const timeoutMs = opts.timeoutMs ?? defaultMs;
  const own = new AbortController();
  // An infinite wait (a follower) ends only with the caller's signal.
  const timer = Number.isFinite(timeoutMs) ? setTimeout(() => own.abort(new Error("timeout")), timeoutMs) : undefined;
  const signal = opts.signal ? AbortSignal.any([own.signal, opts.signal]) : own.signal;
  return { signal, timeoutMs, timedOut: () => own.signal.aborted, dispose: () => clearTimeout(timer) };
}

/** The HTTP status of a failed list (KubeApiError) or watch (client-node sets statusCode). */
function statusCode(error: unknown): number | undefined {
  return error instanceof KubeApiError ? error.code : (error as { statusCode?: number } | undefined)?.statusCode;
}

/** Errors a retry cannot fix: the request itself is wrong or not allowed. */
function isPermanent(error: unknown): boolean {
  const code = statusCode(error);
  return typeof code === "number" && code >= 400 && code < 500 && code !== 410 && code !== 429;
}

type WatchOutcome =
  | { kind: "done" }
  | { kind: "closed"; events: number } // the server ended the watch (its timeout); resume from the last version
  | { kind: "expired" } // 410 Gone: the version is too old, list again
  | { kind: "stalled" } // nothing, not even the server's end, long past the watch's timeout: list again
  | { kind: "failed"; error: unknown }
  | { kind: "broken"; error: unknown }; // the caller's evaluate threw: a bug, not a retry

/**
 * Waits until `evaluate` says the objects matching `query` are as wanted. It lists first, judges
 * the list, then watches from the list's resourceVersion so no change in between is missed; a
 * watch the server closes is resumed from the last version seen (bookmarks keep that fresh), and
 * an expired version (410) means listing again. Connection errors are retried with a short
 * backoff until the deadline; errors a retry cannot fix (403, 404, a bad selector) end the wait.
 * Resolves with the objects as they were when `evaluate` was satisfied.
 */
export async function waitUntil(
  kc: KubeConfig,
  query: ListQuery,
  evaluate: (objects: KubeObject[]) => Verdict,
  what: string,
  opts: WaitOptions & {
    defaultTimeoutMs?: number;
    hint?: string;
    /** A kind the server stops serving (its CRD was deleted) has no objects left, instead of failing. */
    unservedIsEmpty?: boolean;
  } = {},
): Promise<KubeObject[]> {
  const clock = deadline(opts, opts.defaultTimeoutMs ?? 60_000);
  let lastStatus = "nothing observed yet (the API did not answer)";
  const observe = (status: string) => {
    if (status === lastStatus) return;
    lastStatus = status;
    opts.onStatus?.(status);
  };
  let backoff = 200;
  try {
    for (;;) {
      clock.signal.throwIfAborted();
      let objects: Map<string, KubeObject>;
      let resourceVersion: string;
      try {
        const list = await listObjects(kc, query, clock.signal);
        objects = new Map(list.items.map((o) => [keyOf(o), o]));
        resourceVersion = list.resourceVersion;
      } catch (error) {
        if (clock.signal.aborted) throw error;
        if (opts.unservedIsEmpty && isNotFound(error)) {
          const verdict = evaluate([]);
          observe(verdict.status);
          if (verdict.done) return [];
        }
        if (isPermanent(error)) throw error;
        observe(`the API did not answer: ${(error as Error).message}`);
        await sleep(backoff, undefined, { signal: clock.signal });
        backoff = Math.min(backoff * 2, 5_000);
        continue;
      }
      const verdict = evaluate([...objects.values()]);
      observe(verdict.status);
      if (verdict.done) return [...objects.values()];

      // Watch until satisfied; resume after server-side closes, list again after 410.
      for (;;) {
        const outcome = await watchOnce(kc, query, resourceVersion, clock.signal, (type, obj) => {
          if (type === "BOOKMARK") {
            resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
            return false;
          }
          if (type === "DELETED") objects.delete(keyOf(obj));
          else objects.set(keyOf(obj), { apiVersion: query.apiVersion, kind: query.kind, ...obj });
          resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
          const v = evaluate([...objects.values()]);
          observe(v.status);
          return v.done;
        });
        if (outcome.kind === "done") return [...objects.values()];
        if (outcome.kind === "broken") throw outcome.error;
        if (outcome.kind === "closed") {
          // A watch that ends without a single event (not even a bookmark) is not the server's
          // timeout; resuming it at once would spin.
          if (outcome.events === 0) {
            await sleep(backoff, undefined, { signal: clock.signal });
            backoff = Math.min(backoff * 2, 5_000);
          } else {
            backoff = 200;
          }
          continue;
        }
        if (outcome.kind === "failed") {
          if (clock.signal.aborted) throw stopReason(clock.signal);
          const unserved = opts.unservedIsEmpty && statusCode(outcome.error) === 404;
          if (isPermanent(outcome.error) && !unserved) throw outcome.error;
          await sleep(backoff, undefined, { signal: clock.signal });
          backoff = Math.min(backoff * 2, 5_000);
        }
        break; // expired, stalled or failed: list again
      }
    }
  } catch (error) {
    if (clock.timedOut()) throw new WaitTimeoutError(what, lastStatus, clock.timeoutMs, opts.hint);
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw error;
  } finally {
    clock.dispose();
  }
}

/**
 * Follows the objects matching `query` until `signal` aborts: `onChange` gets every object as now
 * known after the first list and after each change (the same list-then-watch, resume and relist as
 * {@link waitUntil}). Resolves when the signal aborts; rejects on an error a retry cannot fix.
 */
export async function followObjects(
  kc: KubeConfig,
  query: ListQuery,
  onChange: (objects: KubeObject[]) => void,
  signal: AbortSignal,
): Promise<void> {
  try {
    await waitUntil(
      kc,
      query,
      (objects) => {
        onChange(objects);
        return { done: false, status: `${objects.length} ${query.kind} objects` };
      },
      `changes of ${query.kind}`,
      { timeoutMs: Infinity, signal },
    );
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

/** How long one watch lasts before it is resumed: a wait is seldom longer, so a stale watch would otherwise last all of it. */
const WATCH_SECONDS = 60;

/**
 * One watch request. `onEvent` returns true when the wait is satisfied. client-node's Watch
 * swallows exceptions thrown from its callback, so they are caught here and end the watch.
 */
async function watchOnce(
  kc: KubeConfig,
  query: ListQuery,
  resourceVersion: string,
  signal: AbortSignal,
  onEvent: (type: string, obj: KubeObject) => boolean,
): Promise<WatchOutcome> {
  let path: string;
  try {
    path = await objectApi(kc).path({ ...query, name: undefined }, "list");
  } catch (error) {
    return { kind: "failed", error };
  }
  return new Promise<WatchOutcome>((resolve) => {
    let settled = false;
    let events = 0;
    let controller: AbortController | undefined;
    // A connection that died without closing (an API server behind the load balancer gone away) ends
    // no watch by itself: past the server's own end, the watch is given up and the objects listed again.
    const stalled = setTimeout(() => settle({ kind: "stalled" }), (WATCH_SECONDS + 15) * 1000);
    const settle = (outcome: WatchOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(stalled);
      signal.removeEventListener("abort", onAbort);
      controller?.abort();
      resolve(outcome);
    };
    const onAbort = () => settle({ kind: "failed", error: stopReason(signal) });
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) return onAbort();

    const params = {
      resourceVersion,
      allowWatchBookmarks: true,
      labelSelector: query.labelSelector,
      fieldSelector: combinedFieldSelector(query),
      // The server ends the watch after this long; it is then resumed from the last version.
      timeoutSeconds: WATCH_SECONDS,
    };
    new Watch(kc)
      .watch(
        path,
        params,
        (type: string, obj: KubeObject) => {
          if (settled) return;
          events++;
          try {
            if (type === "ERROR") {
              const status = obj as { code?: number; message?: string };
              settle(
                status.code === 410
                  ? { kind: "expired" }
                  : {
                      kind: "failed",
                      error: new KubeApiError(`watch ${query.kind}: ${status.message ?? "error event"}`, status.code ?? 0),
                    },
              );
              return;
            }
            if (onEvent(type, obj)) settle({ kind: "done" });
          } catch (error) {
            settle({ kind: "broken", error });
          }
        },
        (err: unknown) => settle(err ? { kind: "failed", error: err } : { kind: "closed", events }),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (err: unknown) => settle({ kind: "failed", error: err }),
      );
  });
}
