import { Listr, PRESET_TIMER, type ListrTask } from "listr2";
import type { StepRunner } from "../../src/create/action.js";
import { humanDuration, type ProgressLine } from "../../src/util/progress.js";

export interface StepTask {
  title: string;
  /** `step(text)` updates the line with what is happening now; `warn(text)` is always shown. */
  run: (step: ProgressLine, warn: (text: string) => void) => Promise<unknown>;
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

/** Lines kept under a running step (the items of a long build), on a terminal. */
const KEPT_LINES = 4;
/** A step's current state shows how long it has lasted once it lasts this long. */
const SHOW_ELAPSED_AFTER_MS = 5_000;

/**
 * Runs steps as a listr2 list: one line per step with its elapsed time, collapsed on success, the
 * failing step's message shown on failure. On a terminal a step's line shows its current state and,
 * when that lasts, for how long; the lines it keeps (see ProgressLine) stay under it while it runs.
 * Without a TTY every step prints plain lines instead: the kept ones always, every state with -v.
 */
export async function runSteps(tasks: StepTask[], opts: { verbose?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const tty = interactiveOutput();
  const list = new Listr(
    tasks.map((t): ListrTask => ({
      title: t.title,
      skip: t.skip,
      rendererOptions: { outputBar: KEPT_LINES },
      task: async (_ctx, task) => {
        // Once interrupted, no further step starts; the one in flight finishes or fails first.
        opts.signal?.throwIfAborted();
        const base = t.title;
        let state = "";
        let since = Date.now();
        const render = () => {
          const lasted = Date.now() - since;
          task.title = `${base}: ${state}${lasted >= SHOW_ELAPSED_AFTER_MS ? ` (${humanDuration(lasted)})` : ""}`;
        };
        const ticker = tty ? setInterval(() => state && render(), 1000).unref() : undefined;
        try {
          await t.run((text, o) => {
            if (o?.keep) task.output = text;
            if (!tty) {
              if (opts.verbose && !o?.keep) task.output = text;
              return;
            }
            if (text !== state) [state, since] = [text, Date.now()];
            render();
          }, printWarning);
        } finally {
          clearInterval(ticker);
        }
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
