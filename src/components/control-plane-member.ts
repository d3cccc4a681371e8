import type { ComponentContext, ControlPlaneMember } from "./types.js";

/**
 * The control-plane entry of the node being rendered. etcd and the API server run only on
 * control-plane nodes, and etcd's member list must name this node exactly as its peers do, so a
 * node missing from the list is a bug in the caller, not a user error.
 */
export function thisMember(ctx: ComponentContext): ControlPlaneMember {
  const member = ctx.controlPlanes.find((m) => m.name === ctx.node.name);
  if (!member) {
    throw new Error(`node ${ctx.node.name} is not among the control planes (${ctx.controlPlanes.map((m) => m.name).join(", ")})`);
  }
  if (member.ip !== ctx.node.ip) {
    throw new Error(`node ${ctx.node.name} has IP ${ctx.node.ip} but is listed as a control plane with ${member.ip}`);
  }
  return member;
}

/**
 * Whether the controller manager and scheduler elect a leader. With one control plane there is
 * nothing to elect, and the election only waits (a lease first refused until the API server's
 * RBAC roles exist, then retried seconds later) before any controller starts. A cluster keeps
 * its count of control planes: one cannot become several later.
 */
export function needsLeaderElection(ctx: ComponentContext): boolean {
  return ctx.controlPlanes.length > 1;
}
