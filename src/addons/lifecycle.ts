import type { KubeConfig } from "@kubernetes/client-node";
import {
  deleteByLabel,
  isNamespace,
  listObjects,
  refOf,
  serverSideApply,
  waitForDaemonSetReady,
  waitForDeploymentAvailable,
  waitForCondition,
  waitForObject,
  type KindRef,
  type KubeObject,
  type ObjectRef,
  type WaitOptions,
} from "../kube/index.js";
import { UserError } from "../util/errors.js";
import type { Addon } from "./catalog.js";
import type { AddonContext } from "./context.js";
import type { ReadinessCheck } from "./descriptor.js";
import { ADDON_LABEL, addonSelector } from "./labels.js";
import { renderAddon } from "./render.js";

export interface AddonOptions extends WaitOptions {
  /** Apply without waiting for the readiness checks (a cluster step that waits for them later). */
  noWait?: boolean;
  /**
   * Settles once the addon's pods may start: its images are on the nodes (so no pod tries to pull
   * one still being loaded), or what its pods need first runs. Everything else (namespaces, CRDs,
   * RBAC, config) is applied meanwhile; objects that run containers wait for it.
   */
  workloadsAfter?: Promise<unknown>;
}

/** Kinds whose objects start containers. */
const WORKLOAD_KINDS = new Set(["Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"]);

/**
 * Applies the addon's objects (server-side, so enabling twice changes nothing), removes objects of
 * an earlier enable that the manifests no longer hold (a newer kubeyard, other values), and waits,
 * by watching, until every readiness check of its descriptor passes. Returns the applied objects.
 */
export async function enableAddon(kc: KubeConfig, addon: Addon, ctx: AddonContext, opts: AddonOptions = {}): Promise<KubeObject[]> {
  const objects = renderAddon(addon, ctx);
  const workload = (o: KubeObject) => WORKLOAD_KINDS.has(o.kind ?? "");
  const applied = await serverSideApply(
    kc,
    objects.filter((o) => !workload(o)),
    { signal: opts.signal },
  );
  await opts.workloadsAfter;
  applied.push(...(await serverSideApply(kc, objects.filter(workload), { signal: opts.signal })));
  const current = new Set(applied.map((o) => identity(refOf(o))));
  // Leftovers are deleted while the addon comes up: nothing waits for their deletion alone, and one
  // in the way (holding a host port the new pod wants) is gone as soon as it would be otherwise.
  await Promise.all([
    deleteByLabel(kc, addonSelector(addon.name), addonKinds(addon), { signal: opts.signal, keep: (ref) => current.has(identity(ref)) }),
    opts.noWait ? undefined : waitForAddonReady(kc, addon, objects, opts),
  ]);
  return applied;
}

/** Waits for every readiness check of the addon, side by side, under one deadline. */
export async function waitForAddonReady(
  kc: KubeConfig,
  addon: Addon,
  objects: readonly KubeObject[],
  opts: WaitOptions = {},
): Promise<void> {
  const waitOpts = { ...opts, timeoutMs: opts.timeoutMs ?? 300_000 };
  await Promise.all(
    addon.readiness.map((check) => {
      // A condition named in the descriptor is what it waits for, whatever the kind.
      if (check.condition) return waitForCondition(kc, readinessRef(check, objects), check.condition, "True", waitOpts);
      if (check.kind === "Deployment") return waitForDeploymentAvailable(kc, check.namespace!, check.name, waitOpts);
      if (check.kind === "DaemonSet") return waitForDaemonSetReady(kc, check.namespace!, check.name, waitOpts);
      return waitForObject(kc, readinessRef(check, objects), waitOpts);
    }),
  );
}

/** Names an object across API versions of its kind (apps/v1 and apps/v1beta2 are one object). */
function identity(ref: ObjectRef): string {
  const group = ref.apiVersion.includes("/") ? ref.apiVersion.split("/")[0] : "";
  return `${group}/${ref.kind}/${ref.namespace ?? ""}/${ref.name ?? ""}`;
}

function readinessRef(check: ReadinessCheck, objects: readonly KubeObject[]): ObjectRef & { name: string } {
  const apiVersion = check.apiVersion ?? objects.find((o) => o.kind === check.kind && o.metadata?.name === check.name)?.apiVersion;
  // The catalog already refuses a check whose apiVersion cannot be found this way.
  if (!apiVersion) throw new Error(`readiness check ${check.kind} ${check.name} has no apiVersion`);
  return { apiVersion, kind: check.kind, namespace: check.namespace, name: check.name };
}

/**
 * Kinds an earlier version of an addon may have left objects of, though its manifests hold none
 * now. Pods and ReplicaSets are left out on purpose: they carry the addon's label copied from a
 * template and belong to their owners.
 */
const COMMON_KINDS: readonly KindRef[] = [
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "apps/v1", kind: "DaemonSet" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
  { apiVersion: "batch/v1", kind: "Job" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding" },
];

/** Every kind the addon's manifests hold, and the common ones: what a disable has to look through. */
export function addonKinds(addon: Addon): KindRef[] {
  const kinds = new Map<string, KindRef>(COMMON_KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, k]));
  for (const doc of addon.manifests.flatMap((m) => m.documents)) {
    kinds.set(`${doc.apiVersion}/${doc.kind}`, { apiVersion: doc.apiVersion!, kind: doc.kind! });
  }
  return [...kinds.values()];
}

export interface DisableResult {
  deleted: ObjectRef[];
  /** Objects of a keepOnDisable kind left in place, each with what still uses it. */
  kept: { ref: ObjectRef; usedBy: number }[];
}

const CRD: KindRef = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" };

/**
 * Deletes every object labelled as the addon's, over the kinds its manifests use, and waits until
 * they are gone; a CRD of the addon whose kind is in keepOnDisable stays while objects of the
 * resource it defines exist that the addon did not create (deleting it would delete the user's
 * objects with it). An alwaysOn addon (CoreDNS) refuses: the cluster does not work without it.
 */
export async function disableAddon(kc: KubeConfig, addon: Addon, opts: WaitOptions = {}): Promise<DisableResult> {
  if (addon.alwaysOn) {
    throw new UserError(`the ${addon.name} addon cannot be disabled`, `${addon.name} is always on: the cluster needs it to work`);
  }
  const kinds = addonKinds(addon);
  // CRDs taken from artifacts are not in addon.manifests unless they were loaded; look for them anyway.
  if (addon.manifestArtifacts.length || addon.keepOnDisable.includes(CRD.kind)) kinds.push(CRD);
  const [kept, custom] = await Promise.all([
    addon.keepOnDisable.includes(CRD.kind) ? crdsInUse(kc, addon, opts.signal) : [],
    customKinds(kc, addon, opts.signal),
  ]);
  const keptNames = new Set(kept.map((k) => k.ref.name));
  // Objects of the addon's own CRDs (a GatewayClass, a Gateway) go first, while its controller
  // still runs to release the finalizers it put on them; deleted after it, they would never go.
  const first = kinds.filter((k) => custom.has(`${k.apiVersion.split("/")[0]}/${k.kind}`));
  const deleted = first.length ? await deleteByLabel(kc, addonSelector(addon.name), first, opts) : [];
  // The namespace controller leaves a deleted Namespace alone for 5 s before it removes what is
  // in it (so that every API server has seen the deletion): the addon's Namespaces are deleted
  // alongside its other objects, not after them, so that those seconds pass while the rest goes.
  const namespaces = kinds.filter(isNamespace);
  const rest = kinds.filter((k) => !isNamespace(k));
  const removed = await Promise.all([
    namespaces.length ? deleteByLabel(kc, addonSelector(addon.name), namespaces, opts) : [],
    deleteByLabel(kc, addonSelector(addon.name), rest, {
      ...opts,
      ...(kept.length ? { keep: (ref: ObjectRef) => ref.kind === CRD.kind && keptNames.has(ref.name) } : {}),
    }),
  ]);
  deleted.push(...removed.flat());
  return { deleted, kept };
}

/** "group/Kind" of every resource the addon's CRDs define. */
async function customKinds(kc: KubeConfig, addon: Addon, signal?: AbortSignal): Promise<Set<string>> {
  const { items } = await listObjects(kc, { ...CRD, labelSelector: addonSelector(addon.name) }, signal).catch(() => ({
    items: [] as KubeObject[],
  }));
  return new Set(
    items.map((crd) => {
      const spec = (crd as { spec?: { group?: string; names?: { kind?: string } } }).spec;
      return `${spec?.group}/${spec?.names?.kind}`;
    }),
  );
}

/** The addon's CRDs that objects it did not create still use, with how many such objects there are. */
async function crdsInUse(kc: KubeConfig, addon: Addon, signal?: AbortSignal): Promise<DisableResult["kept"]> {
  const { items } = await listObjects(kc, { ...CRD, labelSelector: addonSelector(addon.name) }, signal);
  const counted = await Promise.all(
    items.map(async (crd) => {
      const spec = (crd as { spec?: { group?: string; names?: { kind?: string }; versions?: { name: string; served?: boolean }[] } }).spec;
      const version = spec?.versions?.find((v) => v.served !== false)?.name;
      if (!spec?.group || !spec.names?.kind || !version) return { ref: refOf(crd), usedBy: 0 };
      const kind = { apiVersion: `${spec.group}/${version}`, kind: spec.names.kind };
      const objects = await listObjects(kc, kind, signal).catch(() => ({ items: [] as KubeObject[] }));
      return { ref: refOf(crd), usedBy: objects.items.filter((o) => o.metadata?.labels?.[ADDON_LABEL] !== addon.name).length };
    }),
  );
  return counted.filter((c) => c.usedBy > 0);
}
