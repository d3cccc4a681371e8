import { setMaxListeners } from "node:events";
import { UserError } from "../util/errors.js";

export interface Interrupt {
  /** Aborted by the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  fired(): boolean;
  dispose(): void;
}

/**
 * Turns the first SIGINT/SIGTERM into an aborted signal, so the work in flight gives up and its
 * clean-up runs; a second signal exits at once. `say` tells the user what happens now.
 */
export function watchInterrupt(say: (signal: NodeJS.Signals) => string): Interrupt {
  const controller = new AbortController();
  // Every wait of every node listens to this one signal at once (watches, retries, sleeps).
  setMaxListeners(0, controller.signal);
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: ${say(sig)}\n`);
    controller.abort(new UserError(`interrupted by ${sig}`, undefined, 130));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    fired: () => controller.signal.aborted,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** Resolves at the first SIGINT or SIGTERM: for commands that run until Ctrl-C. */
export function untilInterrupted(say: string): { done: Promise<void>; interrupt: Interrupt } {
  const interrupt = watchInterrupt(() => say);
  const done = new Promise<void>((resolve) => interrupt.signal.addEventListener("abort", () => resolve(), { once: true }));
  return { done, interrupt };
}
