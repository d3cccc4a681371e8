import type { ProgressLine } from "../util/progress.js";

/** What an action says while it runs: the line of progress the user sees for it. */
export type Progress = ProgressLine;

/**
 * One named step of a cluster operation. `detail` says what it will do, computed from the config and
 * the recorded state alone, so a plan can be printed (`start --dry-run`) and compared in tests
 * without an engine.
 */
export interface Action<C> {
  /** Stable identifier, as the dry run prints it. */
  name: string;
  /** The progress line. */
  title: string;
  detail: string[];
  run(ctx: C, progress: Progress): Promise<void>;
}

export type PlanKind = "create" | "resume" | "running" | "node-add";

/** An operation as data: what it is, and its actions in order. */
export interface Plan<C> {
  kind: PlanKind;
  summary: string;
  actions: Action<C>[];
}

/** Runs a plan's actions as progress steps: how they are shown is the caller's. */
export type StepRunner = (steps: { title: string; run: (progress: Progress) => Promise<void> }[]) => Promise<void>;

export function stepsOf<C>(plan: Plan<C>, ctx: C): Parameters<StepRunner>[0] {
  return plan.actions.map((a) => ({ title: a.title, run: (progress: Progress) => a.run(ctx, progress) }));
}

/** Runs every step in order with no display; for callers (and tests) that show no progress. */
export const quietRunner: StepRunner = async (steps) => {
  for (const s of steps) await s.run(() => undefined);
};

/** The plan as text: a heading, then one numbered line per action with what it will do. */
export function describePlan<C>(plan: Plan<C>): string {
  const lines = [plan.summary];
  plan.actions.forEach((a, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${a.name}`);
    for (const d of a.detail) lines.push(`      ${d}`);
  });
  return lines.join("\n") + "\n";
}
