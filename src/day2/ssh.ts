import type { NodeInfo } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/**
 * The node `kubeyard ssh [NODE]` means: by its name (`dev-worker2`) or its name without the profile
 * (`worker2`); without one, the first control plane.
 */
export function pickNode(nodes: NodeInfo[], profile: string, wanted?: string): NodeInfo {
  const usable = nodes.filter((n) => n.role !== "load-balancer");
  if (!usable.length) throw new UserError(`there is no cluster "${profile}"`, "`kubeyard profile list` shows the clusters there are.");
  if (wanted === undefined) return usable.find((n) => n.role === "control-plane") ?? usable[0]!;
  const found = usable.find((n) => n.name === wanted || n.name === `${profile}-${wanted}`);
  if (!found) {
    throw new UserError(`cluster "${profile}" has no node "${wanted}"`, `Its nodes: ${usable.map((n) => n.name).join(", ")}.`);
  }
  return found;
}

/** Splits `[NODE] [-- CMD...]`: what follows `--` on the command line is the command. */
export function splitNodeAndCommand(operands: string[], argv: string[]): { node?: string; command: string[] } {
  const dash = argv.indexOf("--");
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const before = operands.slice(0, operands.length - command.length);
  if (dash < 0 && operands.length > 1) {
    throw new UserError(
      `kubeyard ssh takes one node name, got ${operands.join(" ")}`,
      "Put the command after `--`: kubeyard ssh [NODE] -- CMD ARGS...",
    );
  }
  if (before.length > 1)
    throw new UserError(`kubeyard ssh takes one node name, got ${before.join(" ")}`, "Usage: kubeyard ssh [NODE] [-- CMD ARGS...]");
  return { node: before[0], command };
}
