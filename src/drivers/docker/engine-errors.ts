/** dockerode rejects with the HTTP status and the engine's own message; these read them back out. */

export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

export function messageOf(err: unknown): string {
  const e = err as { json?: { message?: unknown }; message?: unknown } | undefined;
  if (typeof e?.json?.message === "string") return e.json.message;
  if (typeof e?.message === "string") return e.message;
  return String(err);
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
/** 304: the container already was in the asked-for state (started, stopped). */
export const isNotModified = (err: unknown) => statusOf(err) === 304;
export const isConflict = (err: unknown) => statusOf(err) === 409;

/** The call's result, or undefined when the engine says its object does not exist (any other error is thrown). */
export async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
