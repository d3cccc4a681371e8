/**
 * Whether waiting for a starting API server still makes sense. On a slow host (an emulated CPU, a
 * loaded runner) it can need minutes, failing fewer readyz checks as it goes; a fixed limit ends
 * starts that would have succeeded. So the wait lasts while what it observes keeps changing, up to
 * a ceiling, and ends early only once nothing has changed for `stallMs`.
 */

export interface ReadinessProgress {
  started: number;
  /** When the observed status last changed (or the wait began). */
  changed: number;
  status: string;
}

export interface ProgressLimits {
  /** How long the same status may last before the wait gives up. */
  stallMs: number;
  /** The longest the wait lasts, progress or not. */
  ceilingMs: number;
}

export type ProgressVerdict = "wait" | "stalled" | "ceiling";

export function startProgress(now: number, status = "no answer yet"): ReadinessProgress {
  return { started: now, changed: now, status };
}

/** The progress after seeing `status` at `now`: a status unlike the last one is progress. */
export function observe(p: ReadinessProgress, status: string, now: number): ReadinessProgress {
  return status === p.status ? p : { ...p, status, changed: now };
}

export function progressVerdict(p: ReadinessProgress, now: number, limits: ProgressLimits): ProgressVerdict {
  if (now - p.started >= limits.ceilingMs) return "ceiling";
  if (now - p.changed >= limits.stallMs) return "stalled";
  return "wait";
}

/** How long the wait may still sleep before its verdict can change. */
export function remainingMs(p: ReadinessProgress, now: number, limits: ProgressLimits): number {
  return Math.max(0, Math.min(p.started + limits.ceilingMs, p.changed + limits.stallMs) - now);
}

/**
 * A readyz answer as a status: the failing checks of a 500 (sorted, so the same set reads the same
 * whatever order the server lists them in), else the start of the body.
 */
export function readyzStatus(code: number, body: string): string {
  const failing = body
    .split("\n")
    .filter((line) => line.startsWith("[-]"))
    .map((line) => line.slice(3).trim())
    .sort();
  if (failing.length) return `HTTP ${code}, failing checks: ${failing.join(", ")}`;
  return `HTTP ${code}${body.trim() ? `: ${body.trim().slice(0, 300)}` : ""}`;
}
