import { humanDuration, type ProgressLine } from "../util/progress.js";

/**
 * Counts the items of one long piece of work (the node image's binaries and images) on its progress
 * line: "[3/9] kubernetes: compile …". An item that does any work ends with a kept line saying how
 * long it took; one the cache already holds says nothing.
 */
export function countedItems(total: number, onStep: ProgressLine | undefined) {
  let started = 0;
  return async function item<T>(label: string, work: (onStep: ProgressLine) => Promise<T>): Promise<T> {
    const prefix = `[${++started}/${total}] ${label}`;
    let since: number | undefined;
    const result = await work((text, o) => {
      since ??= Date.now();
      onStep?.(`${prefix}: ${text}`, o);
    });
    if (since !== undefined) onStep?.(`${prefix}: done in ${humanDuration(Date.now() - since)}`, { keep: true });
    return result;
  };
}
