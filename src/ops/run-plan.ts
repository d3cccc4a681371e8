import { stepsOf, type Plan, type StepRunner } from "../create/action.js";
import type { ClusterContext } from "../create/context.js";
import { UserError } from "../util/errors.js";
import { traced } from "../util/trace.js";
import type { Interrupt } from "./interrupt.js";

/**
 * Runs a plan's actions through the caller's display. When an action fails or the user interrupts,
 * `undo` runs once, after the action in flight has settled (so nothing is made after the clean-up),
 * and an interruption ends as exit code 130.
 */
export async function runPlan(
  plan: Plan<ClusterContext>,
  ctx: ClusterContext,
  opts: { runner: StepRunner; interrupt: Interrupt; undo?: (interrupted: boolean) => Promise<void>; interruptedMessage?: string },
): Promise<void> {
  const steps = stepsOf(plan, ctx).map((s, i) => ({
    ...s,
    run: async (progress: (text: string) => void) => {
      // Once interrupted, no further action starts.
      opts.interrupt.signal.throwIfAborted();
      await traced(plan.actions[i]?.name ?? s.title, () => s.run(progress));
    },
  }));
  try {
    await opts.runner(steps);
  } catch (err) {
    await opts.undo?.(opts.interrupt.fired());
    if (opts.interrupt.fired()) throw new UserError(opts.interruptedMessage ?? "interrupted", undefined, 130);
    throw err;
  }
}
