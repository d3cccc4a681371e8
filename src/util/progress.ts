/**
 * What long work says while it runs. A plain line is the current state, shown in place of the last
 * one; `keep` marks a line worth keeping in a log-like display (an item of a long build started or
 * finished), shown even where current states are not.
 */
export type ProgressLine = (text: string, opts?: { keep?: boolean }) => void;

/** A duration as a person reads it: 45s, 3m05s, 1h02m. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
