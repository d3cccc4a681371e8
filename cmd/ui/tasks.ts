import { Listr, PRESET_TIMER, type ListrTask } from "listr2";
import type { StepRunner } from "../../src/create/action.js";

export interface StepTask {
  title: string;
  /** `step(text)` updates the line with what is happening now; `warn(text)` is always shown. */
  run: (step: (text: string) => void, warn: (text: string) => void) => Promise<unknown>;
  skip?: () => boolean;
}

/** Whether to draw the live list; plain line-by-line output when stdout is no TTY or under CI. */
export function interactiveOutput(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(process.stdout.isTTY) && !env.CI;
}

/** A warning during steps: shown at once, whatever the display. */
export function printWarning(text: string): void {
  process.stderr.write(`! ${text}\n`);
}

/**
 * Runs steps as a listr2 list: one line per step with its elapsed time, collapsed on success, the
 * failing step's message shown on failure. Without a TTY every step prints plain lines instead.
 */
export async function runSteps(tasks: StepTask[], opts: { verbose?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const list = new Listr(
    tasks.map((t): ListrTask => ({
      title: t.title,
      skip: t.skip,
      task: async (_ctx, task) => {
        // Once interrupted, no further step starts; the one in flight finishes or fails first.
        opts.signal?.throwIfAborted();
        const base = t.title;
        await t.run((text) => {
          if (interactiveOutput()) task.title = `${base}: ${text}`;
          else if (opts.verbose) task.output = text;
        }, printWarning);
        task.title = base;
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      renderer: interactiveOutput() ? "default" : "simple",
      fallbackRenderer: "simple",
      fallbackRendererCondition: () => !interactiveOutput(),
      rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: true, showErrorMessage: true } as never,
      fallbackRendererOptions: { timer: PRESET_TIMER, timestamp: undefined } as never,
      collectErrors: false,
      // kubeyard handles Ctrl-C itself (cleaning up what a start made); listr2's own handler would exit at once.
      registerSignalListeners: false,
    },
  );
  await list.run();
}

/** The display of an operation's actions: runSteps, one line per action. */
export function stepRunner(opts: { verbose?: boolean; signal?: AbortSignal } = {}): StepRunner {
  return (steps) =>
    runSteps(
      steps.map((s) => ({ title: s.title, run: (step) => s.run(step) })),
      opts,
    );
}
