import { randomInt } from "node:crypto";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../util/errors.js";
import { isProcessAlive } from "../util/process-alive.js";

export interface LockOptions {
  /** How long to wait for another process's lock before giving up. */
  timeoutMs?: number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** The lock file kubectl (client-go's clientcmd) uses for `file`. */
export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

// Locks this process holds, so that an orderly exit (process.exit from a signal handler) does
// not leave one behind for the next kubectl to trip over.
const held = new Set<string>();
let exitHookInstalled = false;

/**
 * Runs `fn` while holding `<file>.lock`, the same lock kubectl takes: a file created with
 * O_CREAT|O_EXCL and removed afterwards. client-go gives up at once when the lock exists; kubeyard
 * waits a little first because its own parallel steps and a concurrent kubectl commonly overlap
 * for milliseconds. A lock that outlives the wait is never broken: only the user can know that
 * no writer is left, so the error tells them which file to delete.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = lockPathFor(file);
  const identity = await acquire(lockPath, options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  try {
    return await fn();
  } finally {
    release(lockPath, identity);
  }
}

interface LockIdentity {
  dev: number;
  ino: number;
}

async function acquire(lockPath: string, timeoutMs: number): Promise<LockIdentity> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 10;
  for (;;) {
    try {
      return await create(lockPath);
    } catch (err) {
      if (errno(err) !== "EEXIST") {
        throw new UserError(
          `Cannot create the kubeconfig lock file ${lockPath}: ${(err as Error).message}`,
          "Check that its folder exists and is writable by you.",
        );
      }
    }
    if (Date.now() >= deadline) throw lockedError(lockPath);
    // Jitter keeps several waiting processes from retrying in lockstep.
    await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())) + randomInt(10));
    delayMs = Math.min(delayMs * 2, 200);
  }
}

async function create(lockPath: string): Promise<LockIdentity> {
  const handle = await fs.promises.open(lockPath, "wx", 0o600);
  let identity: LockIdentity;
  try {
    // kubectl ignores the content; the pid only helps a user decide whether the lock is stale.
    await handle.writeFile(`kubeyard pid ${process.pid}\n`);
    const { dev, ino } = await handle.stat();
    identity = { dev, ino };
  } catch (err) {
    // The lock is ours but unusable (a full disk): do not leave it for others to wait on.
    await handle.close();
    await fs.promises.rm(lockPath, { force: true });
    throw err;
  }
  await handle.close();
  held.add(lockPath);
  installExitHook();
  return identity;
}

function release(lockPath: string, identity: LockIdentity): void {
  held.delete(lockPath);
  try {
    // Someone may have deleted our lock by hand and another writer taken a new one since;
    // that one is not ours to remove.
    const now = fs.statSync(lockPath);
    if (now.dev !== identity.dev || now.ino !== identity.ino) return;
    fs.unlinkSync(lockPath);
  } catch (err) {
    if (errno(err) !== "ENOENT") throw err;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const lockPath of held) {
      try {
        fs.unlinkSync(lockPath);
      } catch {
        // Nothing more can be done while exiting.
      }
    }
  });
}

function lockedError(lockPath: string): UserError {
  const holder = describeHolder(lockPath);
  return new UserError(
    `The kubeconfig is locked: ${lockPath} exists${holder ? ` (${holder})` : ""} and was not released in time.`,
    `Another kubectl or kubeyard is probably writing the kubeconfig; try again when it is done. ` +
      `If no other kubectl or kubeyard is running, the lock is stale: delete ${lockPath} and try again.`,
  );
}

function describeHolder(lockPath: string): string | undefined {
  let content: string;
  try {
    content = fs.readFileSync(lockPath, "utf8");
  } catch {
    return undefined;
  }
  const pid = /^kubeyard pid (\d+)/.exec(content)?.[1];
  if (pid === undefined) return undefined;
  return isProcessAlive(Number(pid)) ? `held by kubeyard, pid ${pid}` : `left by kubeyard pid ${pid}, which is no longer running`;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
