import { CoreV1Api, type KubeConfig, type V1PersistentVolume } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../util/errors.js";

const HOSTNAME = "kubernetes.io/hostname";

/**
 * In a copy of a cluster (`start --from-snapshot`), hands what was bound to the saved cluster's nodes
 * to the copy's nodes, `renamed` (old name to new): their Node objects go (the copy's own are made
 * afterwards by the caller), pods bound to them are deleted at once (their controllers make them again
 * on the copy's nodes, as after losing a node), and each local volume's PersistentVolume is made again
 * with the new node in its node affinity, which cannot be changed in place; its claim stays bound.
 */
export async function releaseOldNodes(kc: KubeConfig, renamed: ReadonlyMap<string, string>): Promise<Map<string, NodeCapacity>> {
  const core = kc.makeApiClient(CoreV1Api);
  const capacities = new Map<string, NodeCapacity>();
  for (const [old, to] of renamed) {
    const node = await core.readNode({ name: old }).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (node?.status?.capacity)
      capacities.set(to, { capacity: node.status.capacity, allocatable: node.status.allocatable ?? node.status.capacity });
    await core.deleteNode({ name: old }).catch(ignoreNotFound);
  }
  const pods = await core.listPodForAllNamespaces();
  await Promise.all(
    pods.items
      .filter((p) => renamed.has(p.spec?.nodeName ?? ""))
      .map((p) =>
        core
          .deleteNamespacedPod({ name: p.metadata!.name!, namespace: p.metadata!.namespace!, gracePeriodSeconds: 0 })
          .catch(ignoreNotFound),
      ),
  );
  for (const pv of (await core.listPersistentVolume()).items) {
    const moved = withNodesRenamed(pv, renamed);
    if (moved) await remakeVolume(core, moved);
  }
  return capacities;
}

/** What a node holds, as its kubelet reports it. */
export interface NodeCapacity {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
}

/**
 * Gives each Node made by kubeyard (with no status yet) the capacity its node had in the saved cluster,
 * the same container on the same machine. A kubelet that starts and finds its Node without any capacity
 * refuses its static pods for good ("pods: 0"), and those are the control plane.
 */
export async function giveCapacity(kc: KubeConfig, capacities: ReadonlyMap<string, NodeCapacity>): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const [name, c] of capacities) {
    const node = await core.readNode({ name });
    if (node.status?.capacity && Object.keys(node.status.capacity).length) continue;
    await core.replaceNodeStatus({ name, body: { ...node, status: { ...node.status, capacity: c.capacity, allocatable: c.allocatable } } });
  }
}

/** The volume as it would be on the renamed nodes, or undefined when it names none of them. */
export function withNodesRenamed(pv: V1PersistentVolume, renamed: ReadonlyMap<string, string>): V1PersistentVolume | undefined {
  let changed = false;
  const terms = (pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []).map((t) => ({
    ...t,
    matchExpressions: t.matchExpressions?.map((e) => {
      if (e.key !== HOSTNAME) return e;
      return {
        ...e,
        values: e.values?.map((v) => {
          const to = renamed.get(v);
          if (to) changed = true;
          return to ?? v;
        }),
      };
    }),
  }));
  if (!changed) return undefined;
  const { claimRef } = pv.spec!;
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: pv.metadata!.name, labels: pv.metadata?.labels, annotations: pv.metadata?.annotations },
    spec: {
      ...pv.spec,
      nodeAffinity: { required: { nodeSelectorTerms: terms } },
      ...(claimRef ? { claimRef: { ...claimRef, resourceVersion: undefined } } : {}),
    },
  };
}

/**
 * Deleted first, then its finalizers taken off: once a volume is being deleted no controller may add
 * a finalizer again, whereas one taken off before the deletion could be put back (the PV protection
 * controller does) and then hold the deletion while the claim uses the volume.
 */
async function remakeVolume(core: CoreV1Api, pv: V1PersistentVolume): Promise<void> {
  const name = pv.metadata!.name!;
  await core.deletePersistentVolume({ name }).catch(ignoreNotFound);
  for (let i = 0; ; i++) {
    const current = await core.readPersistentVolume({ name }).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (!current) break;
    if (i === 300)
      throw new UserError(`PersistentVolume ${name} was still being deleted after 30 s, so it could not be made again for the copy's node`);
    if (current.metadata?.finalizers?.length) {
      // A conflict (the object changed meanwhile) is tried again on the next round.
      await core
        .replacePersistentVolume({ name, body: { ...current, metadata: { ...current.metadata, finalizers: [] } } })
        .catch((err: unknown) => void ((err as { code?: number }).code === 409 || ignoreNotFound(err)));
    }
    await sleep(100);
  }
  await core.createPersistentVolume({ body: pv });
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
