import { CoreV1Api, SchedulingV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { kubeClient } from "../kube/client.js";
import { podNodeName, serverSideApply, waitForPodsReady, type KubeObject } from "../kube/index.js";
import {
  KUBE_PROXY_HEALTH_PORT,
  KUBE_PROXY_NAME,
  KUBE_PROXY_NAMESPACE,
  KUBE_PROXY_SELECTOR,
  type ManifestObject,
} from "../components/index.js";
import { daemonSetReport } from "../kube/daemonset-report.js";
import { WaitTimeoutError } from "../kube/watch.js";
import { waitForApiReady, waitForNodeReady } from "../kube/wait.js";
import { UserError } from "../util/errors.js";
import { pkiPaths, type PkiBundle } from "../pki/layout.js";
import { loadPki } from "../pki/store.js";
import { hostServerURL } from "./addresses.js";
import { pkiDir, requireReadyState, type ClusterState } from "./state.js";
import type { PlacedNode } from "./topology.js";

/** A client for the cluster from the host, as kubernetes-admin, through the published API port. */
export function adminClient(state: ClusterState, pki: PkiBundle): KubeConfig {
  return kubeClient({
    server: hostServerURL(state),
    caPem: pki[pkiPaths.ca.cert]!,
    certPem: pki[pkiPaths.admin.cert]!,
    keyPem: pki[pkiPaths.admin.key]!,
  });
}

/**
 * Waits for a new API server: as long as its failing readyz checks keep changing (slow hosts need
 * minutes to create the bootstrap objects), up to 10 minutes, but no 3 minutes without a change.
 */
export async function waitApiServer(kc: KubeConfig, signal?: AbortSignal): Promise<void> {
  await waitForApiReady(kc, { timeoutMs: 600_000, stallMs: 180_000, signal });
}

/**
 * Resolves once the API server has made the PriorityClass that static pods name, which it does about
 * a second after it starts serving: a kubelet's mirror pods are refused until then. Asks every 200 ms,
 * whatever the answer (the API server may not be serving yet); the caller bounds it with `signal`.
 */
export async function waitPriorityClass(kc: KubeConfig, name: string, signal: AbortSignal): Promise<void> {
  const api = kc.makeApiClient(SchedulingV1Api);
  for (;;) {
    signal.throwIfAborted();
    const found = await api.readPriorityClass({ name }).then(
      () => true,
      () => false,
    );
    if (found) return;
    await sleep(200, undefined, { signal });
  }
}

export async function waitNodesReady(kc: KubeConfig, names: string[], signal?: AbortSignal): Promise<void> {
  await Promise.all(names.map((n) => waitForNodeReady(kc, n, { timeoutMs: 300_000, signal })));
}

/**
 * Creates the Node objects before their kubelets register, with the pod range the CNI config was
 * written for, the role labels a kubelet may not set on itself, and the taints. A Node that already
 * exists (a restarted start) is left as it is, unless it has no pod range: a control plane's
 * kubelet runs before its API server answers (it runs the control plane) and may register its Node
 * first, which then gets these fields too. One with another pod range is refused, since the node's
 * pods would get addresses the cluster routes elsewhere. Returns the nodes whose kubelet registered
 * them first.
 */
export async function createNodeObjects(kc: KubeConfig, placed: PlacedNode[]): Promise<string[]> {
  const api = kc.makeApiClient(CoreV1Api);
  const registeredByKubelet: string[] = [];
  await Promise.all(
    placed.map(async (p) => {
      const body: V1Node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: p.config.name,
          labels: {
            "kubernetes.io/hostname": p.config.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": process.arch === "arm64" ? "arm64" : "amd64",
            ...p.config.labels,
          },
        },
        spec: {
          podCIDR: p.podCIDR,
          podCIDRs: [p.podCIDR],
          taints: p.config.taints.map((t) => ({ key: t.key, value: t.value || undefined, effect: t.effect })),
        },
      };
      try {
        await api.createNode({ body });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
        const existing = await api.readNode({ name: p.config.name });
        const range = existing.spec?.podCIDR;
        if (range && range !== p.podCIDR) {
          throw new Error(`Node ${p.config.name} was registered with the pod range ${range}, not ${p.podCIDR} as its CNI config has it`);
        }
        if (!range) {
          await serverSideApply(kc, [body as KubeObject]);
          registeredByKubelet.push(p.config.name);
        }
      }
    }),
  );
  return registeredByKubelet;
}

/** An admin client for a ready cluster, by profile name. */
export async function profileClient(profile: string): Promise<KubeConfig> {
  const state = await requireReadyState(profile);
  return adminClient(state, await loadPki(pkiDir(profile)));
}

/**
 * Applies kube-proxy's objects, then waits until a pod of it is ready on each of the cluster's
 * `nodes` and has written its rules: watching the pods themselves sees them ready before the
 * DaemonSet controller has counted them in its status, and what waits on this (the addons) waits
 * that much less. A kube-proxy pod is ready as soon as its container starts (it has no readiness
 * probe), about a second before its first rules; a pod that dialled a Service address in between
 * (CoreDNS's first list of the API) went past the node untranslated and retried a second or two
 * later.
 */
export async function startKubeProxy(kc: KubeConfig, objects: ManifestObject[], nodes: number, signal?: AbortSignal): Promise<void> {
  await serverSideApply(kc, objects, { signal });
  const pods = await waitForPodsReady(kc, KUBE_PROXY_NAMESPACE, KUBE_PROXY_SELECTOR, { min: nodes, timeoutMs: 300_000, signal }).catch(
    async (err: unknown) => {
      if (!(err instanceof WaitTimeoutError)) throw err;
      throw new UserError(`${err.message}; ${await daemonSetReport(kc, KUBE_PROXY_NAMESPACE, KUBE_PROXY_NAME)}`, err.hint);
    },
  );
  const api = kc.makeApiClient(CoreV1Api);
  // A pod bound to a Node that is gone (a copy's saved pods, until they are deleted) has no kube-proxy to ask.
  const nodeNames = new Set((await api.listNode()).items.map((n) => n.metadata?.name));
  const hosts = [...new Set(pods.flatMap((p) => podNodeName(p) ?? []))].filter((n) => nodeNames.has(n));
  await Promise.all(
    hosts.map((node) => waitProxyRules(api, node, AbortSignal.any([AbortSignal.timeout(120_000), ...(signal ? [signal] : [])]))),
  );
}

/**
 * Resolves once the kube-proxy on `node` has synced its rules at least once: its health answer (on
 * the node's port 10256, through the API server's node proxy) names an IP family only from then on.
 */
async function waitProxyRules(api: CoreV1Api, node: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const answer = await api.connectGetNodeProxyWithPath({ name: `${node}:${KUBE_PROXY_HEALTH_PORT}`, path: "healthz" }).catch(() => "");
    if (proxySynced(answer)) return;
    await sleep(100, undefined, { signal });
  }
}

function proxySynced(answer: unknown): boolean {
  try {
    const health = (typeof answer === "string" ? JSON.parse(answer) : answer) as { status?: Record<string, unknown> };
    return Object.keys(health.status ?? {}).length > 0;
  } catch {
    return false;
  }
}
