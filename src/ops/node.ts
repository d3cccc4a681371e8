import type { StepRunner } from "../create/action.js";
import { ClusterContext, type ClusterDeps } from "../create/context.js";
import { planNodeAdd, type AddableRole } from "../create/plan-node-add.js";
import { runningNodes } from "../cluster/running-nodes.js";
import { copyFromNode, copyIntoNode, parseCopyOperands } from "../day2/copy.js";
import { deleteClusterNode } from "../day2/nodes.js";
import { pickNode } from "../day2/ssh.js";
import type { NodeDriver, NodeInfo } from "../drivers/types.js";
import { requireReadyState, withProfileLock } from "../cluster/state.js";
import { placedFromState } from "../cluster/topology.js";
import type { Interrupt } from "./interrupt.js";
import { UserError } from "../util/errors.js";
import { runPlan } from "./run-plan.js";

export const ADDABLE_ROLES: readonly AddableRole[] = ["worker", "control-plane"];

/**
 * `kubeyard node add`, under the profile's lock: the node is provisioned and joined as `start`
 * provisions nodes. A failure or Ctrl-C removes the half-added node again; the cluster stays as it was.
 */
export async function addNode(
  profile: string,
  role: AddableRole,
  deps: ClusterDeps,
  ui: { runner: StepRunner; interrupt: Interrupt; warn: (text: string) => void },
): Promise<string> {
  return withProfileLock(profile, async () => {
    const state = await requireReadyState(profile);
    await runningNodes(deps.driver, profile);
    const plan = planNodeAdd(state, role);
    const ctx = new ClusterContext(deps, plan.state.config);
    ctx.state = plan.state;
    ctx.nodes = placedFromState(plan.state);
    ctx.targets = ctx.nodes.filter((p) => p.config.name === plan.node.config.name);
    if (state.loadBalancer) ctx.loadBalancer = state.loadBalancer;
    await runPlan(plan, ctx, {
      runner: ui.runner,
      interrupt: ui.interrupt,
      interruptedMessage: `interrupted; ${plan.node.config.name} was removed again`,
      undo: async () => {
        ui.warn(`adding ${plan.node.config.name} failed; removing it again`);
        await plan.undo(ctx);
      },
    });
    return plan.node.config.name;
  });
}

/** `kubeyard node delete`, under the profile's lock. */
export async function deleteNode(profile: string, name: string, deps: Pick<ClusterDeps, "driver">): Promise<void> {
  await withProfileLock(profile, () => deleteClusterNode(deps.driver, profile, name));
}

/** The running node `kubeyard ssh` enters: `wanted`, or the first control plane (see pickNode). */
export async function shellNode(driver: NodeDriver, profile: string, wanted: string | undefined): Promise<NodeInfo> {
  const node = pickNode(await driver.listNodes(profile), profile, wanted);
  if (node.state !== "running") {
    const hint = node.state === "paused" ? "Resume it with `kubeyard unpause`." : "Start it with `kubeyard start`.";
    throw new UserError(`node ${node.name} is ${node.state}`, hint);
  }
  return node;
}

/**
 * `kubeyard cp SRC DST`: a file or folder from the host into a running node, or back; the node is
 * named as `kubeyard ssh` names it. Returns the node's full name.
 */
export async function copyWithNode(driver: NodeDriver, profile: string, src: string, dst: string): Promise<string> {
  const plan = parseCopyOperands(src, dst);
  const node = await shellNode(driver, profile, plan.node);
  if (plan.direction === "in") await copyIntoNode(driver, node.name, plan.hostPath, plan.nodePath, plan.nodePath.endsWith("/"));
  else await copyFromNode(driver, node.name, plan.nodePath, plan.hostPath);
  return node.name;
}
