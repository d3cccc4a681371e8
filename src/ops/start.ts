import { addonNames } from "../addons/catalog.js";
import { hostRefusal, runHostChecks } from "../cluster/host-checks.js";
import { resolveConfig, type ClusterConfig, type ConfigFlags } from "../config/index.js";
import { describePlan, type Plan, type StepRunner } from "../create/action.js";
import { ClusterContext, type ClusterDeps } from "../create/context.js";
import { refuseChangedSettings } from "../create/fixed-settings.js";
import { planCreate, planResume, planStart } from "../create/plan-start.js";
import { deleteCluster } from "../day2/delete.js";
import { failureLogs } from "../node/component-logs.js";
import { readState, withProfileLock, type ClusterState } from "../cluster/state.js";
import { placedFromState } from "../cluster/topology.js";
import type { NodeDriver } from "../drivers/types.js";
import type { Interrupt } from "./interrupt.js";
import { runPlan } from "./run-plan.js";

export interface StartResult {
  kind: Plan<ClusterContext>["kind"];
  state?: ClusterState;
}

/** The config `start` runs: the file and the flags over it, checked (addons against the catalog) before anything is made. */
export async function startConfig(file: string | undefined, flags: ConfigFlags): Promise<ClusterConfig> {
  return resolveConfig({ file, flags, knownAddons: await addonNames() });
}

/**
 * The host checks (see runHostChecks) before `start` creates or resumes `config`'s nodes: throws the
 * first failure, with its fix, before anything is made; returns the warnings, each with its fix.
 */
export async function startChecks(driver: NodeDriver, config: ClusterConfig): Promise<string[]> {
  // A cluster that exists has its network already; only a new one needs a free subnet.
  const creating = !(await readState(config.name));
  const { checks } = await runHostChecks(driver, {
    nodesToAdd: config.nodes.length,
    network: creating ? { avoid: [config.networking.podSubnet, config.networking.serviceSubnet] } : undefined,
  });
  const refusal = hostRefusal(checks);
  if (refusal) throw refusal;
  return checks.filter((c) => c.result === "warn").map((c) => (c.fix ? `${c.detail} ${c.fix}` : c.detail));
}

/**
 * `kubeyard start` for a validated config, under the profile's lock: nothing for a running cluster, a
 * resume for a stopped one, else a create. A create that fails or is interrupted is removed again
 * (containers, network, state, kubeconfig entry), so what is left is a working cluster or nothing.
 */
export async function startCluster(
  config: ClusterConfig,
  deps: ClusterDeps,
  ui: { runner: StepRunner; interrupt: Interrupt; warn: (text: string) => void },
): Promise<StartResult> {
  return withProfileLock(config.name, async () => {
    const plan = await planStart(config, deps.driver);
    if (plan.kind === "running") return { kind: plan.kind, state: await readState(config.name) };
    const ctx = await contextFor(plan, deps, config);
    await runPlan(plan, ctx, {
      runner: ui.runner,
      interrupt: ui.interrupt,
      interruptedMessage: plan.kind === "create" ? `interrupted; the half-made cluster "${config.name}" was removed` : "interrupted",
      undo:
        plan.kind === "create"
          ? async (interrupted) => {
              if (!interrupted) {
                const logs = await failureLogs(deps.driver, config.name);
                if (logs) ui.warn(`the nodes' last log lines:\n${logs}`);
                ui.warn(`start failed; removing the half-made cluster "${config.name}"`);
              }
              await removeHalfMade(deps, config.name, ui.warn);
            }
          : undefined,
    });
    return { kind: plan.kind, state: await readState(config.name) };
  });
}

/** The plan `start` would run, as text, without creating or changing anything (`--dry-run`). */
export async function dryRunStart(config: ClusterConfig): Promise<string> {
  const state = await readState(config.name);
  if (state?.phase === "ready") refuseChangedSettings(config, state.config);
  const plan = state?.phase === "ready" ? planResume(state) : planCreate(config);
  const note =
    state?.phase === "ready" ? `cluster "${config.name}" exists: start resumes it if it is stopped, and changes nothing if it runs\n` : "";
  return note + describePlan(plan);
}

async function contextFor(plan: Plan<ClusterContext>, deps: ClusterDeps, config: ClusterConfig): Promise<ClusterContext> {
  if (plan.kind === "create") return new ClusterContext(deps, config);
  const state = await readState(config.name);
  if (!state) throw new Error(`cluster "${config.name}" has no recorded state to resume from`);
  const ctx = new ClusterContext(deps, state.config);
  ctx.state = state;
  ctx.nodes = placedFromState(state);
  ctx.targets = ctx.nodes;
  if (state.loadBalancer) ctx.loadBalancer = state.loadBalancer;
  return ctx;
}

/** Removes what a failed or interrupted create left; when that fails too, says so and what to run. */
async function removeHalfMade(deps: ClusterDeps, name: string, warn: (text: string) => void): Promise<void> {
  try {
    await deleteCluster(deps.driver, name, deps.kubeconfigPath);
  } catch (err) {
    warn(
      `kubeyard: could not remove the half-made cluster "${name}": ${(err as Error).message ?? String(err)}\nRun \`kubeyard delete -p ${name}\` to remove what is left.`,
    );
  }
}
