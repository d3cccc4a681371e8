import { AppsV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { CONTROLLER_MANAGER_LEASE } from "../components/kube-controller-manager.js";
import { isNotFound } from "./object-api.js";

/**
 * What a DaemonSet whose pods did not come says about it: its counts, its latest warning events, and
 * which controller manager leads (none leading, or one stale, is why no pods are made at all). Read
 * after a wait timed out, so a failed start names a cause, not only "0/0 pods". Never throws: what
 * cannot be read is said so.
 */
export async function daemonSetReport(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const parts = await Promise.all([counts(kc, namespace, name), warnings(kc, namespace, name), leader(kc)]);
  return parts.join("; ");
}

async function counts(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  try {
    const ds = await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name, namespace });
    const s = ds.status;
    return (
      `DaemonSet ${name}: desired ${s?.desiredNumberScheduled ?? 0}, current ${s?.currentNumberScheduled ?? 0}, ` +
      `ready ${s?.numberReady ?? 0}, observed generation ${s?.observedGeneration ?? 0} of ${ds.metadata?.generation ?? 0}`
    );
  } catch (err) {
    return `DaemonSet ${name} unreadable: ${(err as Error).message}`;
  }
}

async function warnings(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  try {
    const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: "type=Warning" });
    const latest = events.items
      .filter((e) => e.involvedObject.name?.startsWith(name))
      .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? "").localeCompare(String(b.lastTimestamp ?? b.eventTime ?? "")))
      .slice(-3)
      .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message?.trim()}`);
    return latest.length ? `warnings: ${latest.join(" | ")}` : "no warning events";
  } catch (err) {
    return `events unreadable: ${(err as Error).message}`;
  }
}

async function leader(kc: KubeConfig): Promise<string> {
  try {
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease(CONTROLLER_MANAGER_LEASE);
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).toISOString() : "never";
    return `controller manager leader ${lease.spec?.holderIdentity ?? "none"}, renewed ${renewed}`;
  } catch (err) {
    // One control plane runs its controller manager without leader election, so without a Lease.
    if (isNotFound(err)) return "no controller manager Lease (none elected, or one control plane, which elects none)";
    return `controller manager Lease unreadable: ${(err as Error).message.split("\n")[0]}`;
  }
}
