import { appendFileSync } from "node:fs";

/**
 * When KUBEYARD_TRACE names a file, each action of a cluster operation appends one JSON line to it
 * (name, start and end as epoch milliseconds): the benchmark lines these up with the components'
 * own log clocks to show where a start's seconds go.
 */
export async function traced<T>(name: string, run: () => Promise<T>): Promise<T> {
  const file = process.env.KUBEYARD_TRACE;
  if (!file) return run();
  const start = Date.now();
  try {
    return await run();
  } finally {
    appendFileSync(file, JSON.stringify({ action: name, start, end: Date.now() }) + "\n");
  }
}
