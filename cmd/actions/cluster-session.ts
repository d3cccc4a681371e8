import type { Command } from "commander";
import type { SourceChoice } from "../../src/artifacts/source-choice.js";
import type { StepRunner } from "../../src/create/action.js";
import type { ClusterDeps } from "../../src/create/context.js";
import type { NodeDriver } from "../../src/drivers/types.js";
import { clusterDeps } from "../../src/ops/deps.js";
import { watchInterrupt, type Interrupt } from "../../src/ops/interrupt.js";
import { stepRunner } from "../ui/tasks.js";
import { globals } from "./common.js";

/** How an operation that changes a cluster shows its steps, hears Ctrl-C and warns. */
export interface SessionUi {
  runner: StepRunner;
  interrupt: Interrupt;
  warn: (text: string) => void;
}

/**
 * Runs an operation that changes a cluster with what it needs from the command line: the engine, the
 * API and artifacts wired for `driver`, progress shown as steps, Ctrl-C watched (`onInterrupt` says
 * what the first one does) and released afterwards.
 */
export async function withClusterSession<T>(
  program: Command,
  driver: NodeDriver,
  opts: { source?: SourceChoice; kubeconfigPath: string | null; onInterrupt: string },
  act: (deps: ClusterDeps, ui: SessionUi) => Promise<T>,
): Promise<T> {
  const g = globals(program);
  const interrupt = watchInterrupt(() => opts.onInterrupt);
  try {
    const deps = clusterDeps(driver, {
      source: opts.source ?? "auto",
      kubeconfigPath: opts.kubeconfigPath,
      signal: interrupt.signal,
      log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
    });
    const ui = {
      runner: stepRunner({ verbose: g.verbose, signal: interrupt.signal }),
      interrupt,
      warn: (text: string) => process.stderr.write(`${text}\n`),
    };
    return await act(deps, ui);
  } finally {
    interrupt.dispose();
  }
}
