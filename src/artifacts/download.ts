import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import path from "node:path";
import pRetry from "p-retry";
import { UserError } from "../util/errors.js";
import { hashFile, type Digest } from "./checksum.js";

/**
 * The host could not be reached at all (DNS failure, connection refused, no route, connect
 * timeout). Its own class because callers react differently: with no internet, kubeyard falls
 * back to building binaries from source instead of failing.
 */
export class NetworkUnreachableError extends UserError {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `cannot reach ${new URL(url).host} to download ${url}: ${describe(cause)}`,
      "Check the network connection (and any proxy or firewall), or build the binaries from source, which needs only the Go module proxy.",
    );
    this.name = "NetworkUnreachableError";
    this.cause = cause;
  }
}

/** The bytes arrived but are not the published ones; nothing was written to the destination. */
export class ChecksumMismatchError extends UserError {
  constructor(
    readonly url: string,
    readonly expected: Digest,
    readonly actual: string,
  ) {
    super(
      `${expected.algorithm} mismatch for ${url}: expected ${expected.hex}, got ${actual}`,
      "The download was corrupted or the server (or a proxy) served different content. Nothing was written to the cache; try again, and if it persists, report it or use the source build.",
    );
    this.name = "ChecksumMismatchError";
  }
}

export interface HttpOptions {
  /** Retries after the first attempt for transient failures (cut connections, 5xx). Default 4. */
  retries?: number;
  /** First backoff delay; doubles per retry up to 8 s. Default 500 ms. */
  backoffMs?: number;
  /** Socket inactivity limit, connecting included. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DownloadOptions extends HttpOptions {
  url: string;
  dest: string;
  digest: Digest;
  /** Called as bytes arrive; `total` is undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
}

const MAX_REDIRECTS = 10;
const MAX_TEXT_BYTES = 1 << 20;

/** Codes that mean "nothing answered": no DNS, no route, nobody listening. */
const UNREACHABLE_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NODATA",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "ETIMEDOUT",
]);

type FailureKind = "unreachable" | "transient" | "fatal";

/** One attempt's failure, sorted into what the retry loop should do about it. */
class AttemptError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly original?: unknown,
  ) {
    super(message);
  }
}

/** Tracks whether any server ever answered, which decides if a connect failure means "offline". */
interface Session {
  url: string;
  answered: boolean;
  opts: HttpOptions;
}

/**
 * Downloads `url` to `dest` and verifies it. The bytes go to a temp file beside `dest`, are
 * fsynced and hashed from disk, and only then renamed over `dest`, so `dest` is either absent,
 * its previous content, or the verified file. Cut connections resume with a Range request.
 */
export async function downloadVerified(opts: DownloadOptions): Promise<void> {
  const dir = path.dirname(opts.dest);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(opts.dest)}.part-${randomBytes(6).toString("hex")}`);
  const fh = await open(tmp, "w", 0o644);
  let closed = false;
  let renamed = false;
  try {
    const state = { received: 0 };
    await withRetries({ url: opts.url, answered: false, opts }, (s) => downloadAttempt(s, fh, state, opts.onProgress));
    await fh.sync();
    await fh.close();
    closed = true;
    const actual = await hashFile(tmp, opts.digest.algorithm);
    if (actual !== opts.digest.hex) throw new ChecksumMismatchError(opts.url, opts.digest, actual);
    await rename(tmp, opts.dest);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!closed) await fh.close().catch(() => {});
    if (!renamed) await rm(tmp, { force: true });
  }
}

/** GETs a small text resource (a checksum file) with the same retry and error rules. */
export async function fetchText(url: string, opts: HttpOptions = {}): Promise<string> {
  return withRetries({ url, answered: false, opts }, async (s) => {
    const res = await openFollowingRedirects(s, {});
    if (res.statusCode !== 200) throw statusFailure(res, s.url);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res) {
        size += (chunk as Buffer).length;
        if (size > MAX_TEXT_BYTES) throw new AttemptError("fatal", `${url} is larger than expected for a checksum file`);
        chunks.push(chunk as Buffer);
      }
    } catch (e) {
      throw asAttemptError(e, true);
    }
    return Buffer.concat(chunks).toString("utf8");
  });
}

async function downloadAttempt(
  s: Session,
  fh: FileHandle,
  state: { received: number },
  onProgress: DownloadOptions["onProgress"],
): Promise<void> {
  const resumeFrom = state.received;
  const res = await openFollowingRedirects(s, resumeFrom > 0 ? { range: `bytes=${resumeFrom}-` } : {});
  let total: number | undefined;
  if (res.statusCode === 206 && resumeFrom > 0) {
    const range = parseContentRange(res.headers["content-range"]);
    if (range?.start !== resumeFrom) {
      res.destroy();
      state.received = 0;
      throw new AttemptError("transient", `${s.url}: the server resumed at the wrong offset; restarting`);
    }
    total = range.total;
  } else if (res.statusCode === 200) {
    // Either a first request or a server that ignores Range: both send the whole file from byte 0.
    state.received = 0;
    total = contentLength(res);
  } else if (res.statusCode === 416 && resumeFrom > 0) {
    res.resume();
    // The cut came after the last byte: the file is already whole if the server says so.
    if (parseContentRange(res.headers["content-range"])?.total === resumeFrom) return;
    state.received = 0;
    throw new AttemptError("transient", `${s.url}: the server refused to resume; restarting`);
  } else {
    throw statusFailure(res, s.url);
  }
  await fh.truncate(state.received);
  onProgress?.(state.received, total);
  try {
    for await (const chunk of res) {
      const buf = chunk as Buffer;
      await fh.write(buf, 0, buf.length, state.received);
      state.received += buf.length;
      onProgress?.(state.received, total);
    }
  } catch (e) {
    throw asAttemptError(e, true);
  }
  if (total !== undefined && state.received !== total) {
    throw new AttemptError("transient", `connection closed after ${state.received} of ${total} bytes`);
  }
}

async function withRetries<T>(s: Session, attempt: (s: Session) => Promise<T>): Promise<T> {
  const retries = s.opts.retries ?? 4;
  try {
    return await pRetry(
      async () => {
        try {
          return await attempt(s);
        } catch (e) {
          throw e instanceof UserError ? e : asAttemptError(e, s.answered);
        }
      },
      {
        retries,
        minTimeout: s.opts.backoffMs ?? 500,
        factor: 2,
        maxTimeout: 8000,
        randomize: false,
        // Offline is the common case and the caller has a fallback, so a host that never answered
        // ("unreachable") fails at once instead of after a round of backoffs.
        shouldRetry: ({ error }) => error instanceof AttemptError && error.kind === "transient",
        ...(s.opts.signal ? { signal: s.opts.signal } : {}),
      },
    );
  } catch (e) {
    if (s.opts.signal?.aborted) throw s.opts.signal.reason;
    if (!(e instanceof AttemptError)) throw e;
    if (e.kind === "unreachable") throw new NetworkUnreachableError(s.url, e.original ?? e);
    if (e.kind === "fatal") throw new UserError(`download of ${s.url} failed: ${e.message}`);
    throw new UserError(
      `download of ${s.url} failed after ${retries + 1} attempts: ${e.message}`,
      "Check the network connection and try again.",
    );
  }
}

/** Opens a GET and follows redirects; resolves with a 2xx/4xx/5xx response the caller must consume. */
async function openFollowingRedirects(s: Session, headers: Record<string, string>): Promise<IncomingMessage> {
  let url = new URL(s.url);
  for (let hops = 0; ; hops++) {
    const res = await openOnce(url, headers, s.opts);
    s.answered = true;
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status < 300 || status >= 400 || status === 304 || location === undefined) return res;
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new AttemptError("fatal", `more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, url);
    if (url.protocol === "https:" && next.protocol !== "https:") {
      throw new AttemptError("fatal", `refusing a redirect from https to ${next.protocol}`);
    }
    url = next;
  }
}

function openOnce(url: URL, headers: Record<string, string>, opts: HttpOptions): Promise<IncomingMessage> {
  const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
  if (client === undefined) return Promise.reject(new AttemptError("fatal", `unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    let connected = false;
    const req = client.request(url, {
      method: "GET",
      // A fresh connection per request: keep-alive sockets would hide whether we ever connected.
      agent: false,
      timeout: opts.timeoutMs ?? 30_000,
      signal: opts.signal,
      headers: { "user-agent": "kubeyard", accept: "*/*", "accept-encoding": "identity", ...headers },
    });
    req.on("socket", (sock) => {
      if (!sock.connecting) connected = true;
      else sock.once("connect", () => (connected = true));
    });
    req.on("timeout", () => {
      const err = Object.assign(new Error(`no data for ${opts.timeoutMs ?? 30_000} ms`), { code: "ETIMEDOUT" });
      req.destroy(err);
    });
    req.on("response", resolve);
    req.on("error", (e) => reject(asAttemptError(e, connected)));
    req.end();
  });
}

function asAttemptError(e: unknown, connected: boolean): AttemptError {
  if (e instanceof AttemptError) return e;
  const code = (e as { code?: string } | null)?.code ?? "";
  if (/^(CERT_|ERR_TLS_CERT|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL)/.test(code)) {
    return new AttemptError("fatal", `TLS error: ${describe(e)} (a proxy with its own CA needs NODE_EXTRA_CA_CERTS)`, e);
  }
  if (!connected && UNREACHABLE_CODES.has(code)) return new AttemptError("unreachable", describe(e), e);
  return new AttemptError("transient", describe(e), e);
}

function statusFailure(res: IncomingMessage, url: string): AttemptError {
  res.resume();
  const status = res.statusCode ?? 0;
  const what = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}`;
  if (status >= 500 || status === 408 || status === 429) return new AttemptError("transient", what);
  if (status === 404 || status === 410) return new AttemptError("fatal", `${what}: ${url} does not exist`);
  return new AttemptError("fatal", what);
}

function contentLength(res: IncomingMessage): number | undefined {
  const n = Number(res.headers["content-length"]);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

// Content-Range: "bytes 10-99/100", or "bytes */100" on a 416.
function parseContentRange(h: string | undefined): { start?: number; total?: number } | undefined {
  const m = h === undefined ? null : /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(h.trim());
  if (!m) return undefined;
  return { start: m[1] === undefined ? undefined : Number(m[1]), total: m[2] === "*" ? undefined : Number(m[2]) };
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/** Makes the rename itself durable; not every filesystem allows fsync on a directory. */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}
