import type { FileNode, FileSettings } from "./file-settings.js";
import { FLAG_NAMES } from "./flags.js";
import { describeOrigin, type IssueList, type Sourced } from "./issue-list.js";
import type { NodeRole } from "./schema.js";

export interface NodeSlot {
  role: NodeRole;
  /** The node the file describes for this place, if any. */
  fromFile?: FileNode;
}

/**
 * How many control planes and workers the cluster gets. `--nodes`/`nodes: N` count all nodes and
 * `--control-planes`/`controlPlanes: N` how many of them are control planes, so `--nodes 3` is one
 * control plane and two workers. A flag wins over the file; when counts change a listed cluster,
 * the listed nodes keep their settings in order per role, extra nodes are plain, the rest are dropped.
 */
export function layoutNodes(
  file: FileSettings["nodes"],
  flags: { nodes?: number; controlPlanes?: number },
  issues: IssueList,
): NodeSlot[] | undefined {
  const list = file && "value" in file ? file : undefined;
  const counts = file && !("value" in file) ? file : undefined;
  const listed = (role: NodeRole) => list?.value.filter((n) => n.role === role) ?? [];

  const cp: Sourced<number> =
    flags.controlPlanes !== undefined
      ? { value: flags.controlPlanes, origin: { kind: "flag", flag: FLAG_NAMES.controlPlanes } }
      : list
        ? { value: listed("control-plane").length, origin: list.origin }
        : (counts?.controlPlanes ?? { value: 1, origin: { kind: "default", field: "controlPlanes" } });
  const total: Sourced<number> | undefined =
    flags.nodes !== undefined ? { value: flags.nodes, origin: { kind: "flag", flag: FLAG_NAMES.nodes } } : counts?.count;

  if (cp.value === 0) {
    // An empty list, or a node with a misspelled role (likely the missing control plane), was reported already.
    if (list?.complete && list.value.length > 0) {
      issues.add(cp.origin, {
        problem: "has no node with role control-plane",
        allowed: "a list with at least one control-plane node",
      });
    }
    return undefined;
  }
  let workers = listed("worker").length;
  if (total) {
    workers = total.value - cp.value;
    if (workers < 0) {
      const by =
        cp.origin.kind === "default"
          ? "the one control plane every cluster has"
          : `the ${cp.value} control planes of ${describeOrigin(cp.origin)}`;
      issues.add(total.origin, {
        value: total.value,
        problem: `is fewer than ${by}`,
        allowed: `a node count of at least ${cp.value} (control planes included)`,
      });
      return undefined;
    }
  }
  const slots = (role: NodeRole, n: number): NodeSlot[] => Array.from({ length: n }, (_, i) => ({ role, fromFile: listed(role)[i] }));
  return [...slots("control-plane", cp.value), ...slots("worker", workers)];
}
