import { CONTROL_PLANE_ROLE_LABEL, type ClusterConfig, type NodeConfig, type Taint } from "../config/index.js";
import type { NodeDriver } from "../drivers/types.js";
import { etcdMembers } from "../node/etcdctl.js";
import { nodeKubectl } from "../node/kubectl.js";
import { writeState, type ClusterState } from "./state.js";
import type { PlacedNode } from "./topology.js";

/** What node add and node delete both change about the cluster's members. */
export const CONTROL_PLANE_TAINT: Taint = { key: CONTROL_PLANE_ROLE_LABEL, value: "", effect: "NoSchedule" };

/** Control planes carry the NoSchedule taint exactly when the cluster has workers; the config records it. */
export async function setControlPlaneTaint(driver: NodeDriver, state: ClusterState, on: boolean): Promise<void> {
  const cps = state.config.nodes.filter((n) => n.role === "control-plane");
  const operator = cps[0]!.name;
  const taint = `${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}`;
  const isTaint = (t: Taint) => t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect;
  for (const cp of cps) {
    if (cp.taints.some(isTaint) === on) continue;
    await nodeKubectl(driver, operator, ["taint", "nodes", cp.name, on ? taint : `${taint}-`, "--overwrite"]);
  }
  const nodes = state.config.nodes.map((n) => {
    if (n.role !== "control-plane") return n;
    const others = n.taints.filter((t) => !isTaint(t));
    return { ...n, taints: on ? [CONTROL_PLANE_TAINT, ...others] : others };
  });
  await writeState({ ...state, config: withNodes(state.config, nodes) });
}

export function withNodes(config: ClusterConfig, nodes: readonly NodeConfig[]): ClusterConfig {
  return { ...config, nodes };
}

/** The hex id of a node's etcd member (one added but never started has no name yet: its peer URL tells). */
export async function etcdMemberId(driver: NodeDriver, operator: string, member: PlacedNode): Promise<string | undefined> {
  const peer = `https://${member.ip}:2380`;
  return (await etcdMembers(driver, operator)).find((m) => m.name === member.config.name || m.peerURL === peer)?.id;
}
