import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addonContext,
  addonSelector,
  ADDON_LABEL,
  disableAddon,
  enableAddon,
  getAddon,
  MANAGED_BY_LABEL,
  renderAddon,
  resolveValues,
  type Addon,
  type AddonContext,
} from "../../src/addons/index.js";
import {
  deleteByLabel,
  getObject,
  listObjects,
  refOf,
  serverSideApply,
  waitForCondition,
  waitForDeploymentAvailable,
  waitForObject,
  WaitTimeoutError,
  type KubeObject,
} from "../../src/kube/index.js";
import { startLocalControlPlane, type LocalControlPlane } from "../helpers/local-control-plane.js";

/**
 * The addon engine and src/kube against a real etcd and kube-apiserver (no kubelet, no
 * controllers): objects are applied server-side, read back, waited for by watching and deleted by
 * label. Nothing here waits for pods, which would need a node.
 */

let cp: LocalControlPlane;
let coredns: Addon;
let ctx: AddonContext;

beforeAll(async () => {
  cp = await startLocalControlPlane();
  coredns = await getAddon("coredns");
  ctx = { ...addonContext(cp.config), values: resolveValues(coredns, { replicas: "2" }) };
}, 240_000);

afterAll(async () => {
  await cp?.stop();
}, 60_000);

async function resourceVersions(objects: readonly KubeObject[]): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const obj of objects) {
    const live = await getObject(cp.kc, refOf(obj));
    out[`${obj.kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name}`] = live?.metadata?.resourceVersion;
  }
  return out;
}

describe("the coredns addon on a real API server", () => {
  it("applies every object, labelled as the addon's, with the cluster's values rendered in", async () => {
    await enableAddon(cp.kc, coredns, ctx, { noWait: true });
    const rendered = renderAddon(coredns, ctx);
    for (const obj of rendered) {
      const live = await getObject(cp.kc, refOf(obj));
      expect(live, `${obj.kind} ${obj.metadata?.name}`).toBeDefined();
      expect(live!.metadata?.labels).toMatchObject({ [MANAGED_BY_LABEL]: "kubeyard", [ADDON_LABEL]: "coredns" });
    }
    const service = await getObject(cp.kc, { apiVersion: "v1", kind: "Service", namespace: "kube-system", name: "kube-dns" });
    expect((service!.spec as { clusterIP: string }).clusterIP).toBe(cp.config.networking.dnsServiceIP);
    const cm = await getObject(cp.kc, { apiVersion: "v1", kind: "ConfigMap", namespace: "kube-system", name: "coredns" });
    expect((cm!.data as { Corefile: string }).Corefile).toContain(`kubernetes ${cp.config.networking.dnsDomain} in-addr.arpa ip6.arpa`);
    const deployment = await getObject(cp.kc, { apiVersion: "apps/v1", kind: "Deployment", namespace: "kube-system", name: "coredns" });
    expect((deployment!.spec as { replicas: unknown }).replicas).toBe(2);
    expect(JSON.stringify(deployment!.spec)).toContain(ctx.images.coredns);
  });

  it("changes nothing when applied again", async () => {
    const rendered = renderAddon(coredns, ctx);
    const before = await resourceVersions(rendered);
    await serverSideApply(cp.kc, rendered);
    expect(await resourceVersions(rendered)).toEqual(before);
  });

  it("says what it was waiting for, and what it last saw, when a wait times out", async () => {
    // No controller runs here, so the Deployment never becomes available.
    const error = await waitForDeploymentAvailable(cp.kc, "kube-system", "coredns", { timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe(
      "timed out after 1.5s waiting for Deployment kube-system/coredns to be available; " +
        "last observed: the controller has not observed the latest spec yet (0/2 replicas available, 0 up to date)",
    );
  });

  it("refuses to disable an alwaysOn addon", async () => {
    await expect(disableAddon(cp.kc, coredns)).rejects.toThrow(/coredns addon cannot be disabled/);
  });

  it("removes, when enabled again, what its manifests no longer hold, and keeps the rest", async () => {
    const withoutServices: Addon = {
      ...coredns,
      manifests: coredns.manifests.map((m) => ({ ...m, documents: m.documents.filter((d) => d.kind !== "Service") })),
    };
    const dropped = renderAddon(coredns, ctx).filter((o) => o.kind === "Service");
    const kept = renderAddon(withoutServices, ctx);
    expect(dropped.length).toBeGreaterThan(0);
    const before = await resourceVersions(kept);

    await enableAddon(cp.kc, withoutServices, ctx, { noWait: true });
    for (const obj of dropped) expect(await getObject(cp.kc, refOf(obj)), obj.metadata?.name).toBeUndefined();
    expect(await resourceVersions(kept)).toEqual(before);

    await enableAddon(cp.kc, coredns, ctx, { noWait: true });
    for (const obj of dropped) expect(await getObject(cp.kc, refOf(obj)), obj.metadata?.name).toBeDefined();
  });

  it("deletes exactly the addon's objects when disabled", async () => {
    const unrelated = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "not-coredns", namespace: "kube-system" }, data: { a: "b" } },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "another-addon", namespace: "kube-system", labels: { [MANAGED_BY_LABEL]: "kubeyard", [ADDON_LABEL]: "other" } },
      },
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "not-coredns" }, rules: [] },
    ];
    await serverSideApply(cp.kc, unrelated);

    // The same addon without its alwaysOn guard: what disable would remove if it were allowed.
    const { deleted, kept } = await disableAddon(cp.kc, { ...coredns, alwaysOn: false });
    expect(kept).toEqual([]);
    expect(deleted.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(
      renderAddon(coredns, ctx)
        .map((o) => `${o.kind}/${o.metadata?.name}`)
        .sort(),
    );
    for (const obj of renderAddon(coredns, ctx)) {
      expect(await getObject(cp.kc, refOf(obj)), `${obj.kind} ${obj.metadata?.name}`).toBeUndefined();
    }
    const left = await listObjects(cp.kc, { apiVersion: "v1", kind: "ConfigMap", labelSelector: addonSelector("coredns") });
    expect(left.items).toEqual([]);
    for (const obj of unrelated) expect(await getObject(cp.kc, refOf(obj)), obj.metadata.name).toBeDefined();
  });
});

describe("waiting by watching", () => {
  const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "flag" } as const;

  it("sees an object appear and change after the wait began", async () => {
    const configMap = (state: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ref.name, namespace: ref.namespace },
      data: { state },
    });
    const statuses: string[] = [];
    let sawNotFound!: () => void;
    const notFoundSeen = new Promise<void>((resolve) => (sawNotFound = resolve));
    const waiting = waitForObject(cp.kc, ref, {
      timeoutMs: 60_000,
      check: (cm) => {
        const state = (cm.data as { state?: string } | undefined)?.state;
        return { done: state === "ready", status: `state is ${state}` };
      },
      onStatus: (status) => {
        statuses.push(status);
        if (status === "not found") sawNotFound();
      },
    });
    // Only once the wait has listed and found nothing: from here on it learns by watching.
    await notFoundSeen;
    await serverSideApply(cp.kc, [configMap("starting")]);
    await serverSideApply(cp.kc, [configMap("ready")]);
    const seen = await waiting;
    expect(seen.data).toEqual({ state: "ready" });
    // Every state in between arrived as its own watch event.
    expect(statuses).toEqual(["not found", "state is starting", "state is ready"]);
  });

  it("times out on something that never happens, naming it and its last state", async () => {
    const error = await waitForObject(cp.kc, { ...ref, name: "never" }, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe("timed out after 1s waiting for ConfigMap default/never to exist; last observed: not found");
  });

  it("applies a CRD, waits for it to be Established, then its custom resource; and removes both by label", async () => {
    const labels = { "kubeyard.dev/test": "crd" };
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.test.kubeyard.dev", labels },
      spec: {
        group: "test.kubeyard.dev",
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: {
                      size: { type: "string", enum: ["small", "large"], default: "small" },
                      extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
    const widget = {
      apiVersion: "test.kubeyard.dev/v1",
      kind: "Widget",
      metadata: { name: "w1", namespace: "default", labels },
      spec: { extra: { anything: { goes: 1 } } },
    };
    const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "widgets", labels } };
    // Given in the wrong order on purpose: the custom resource before its CRD and namespace.
    await serverSideApply(cp.kc, [widget, { ...widget, metadata: { ...widget.metadata, namespace: "widgets" } }, crd, namespace]);

    const established = await waitForCondition(
      cp.kc,
      { apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name },
      "Established",
    );
    // Schema keywords that client-node's model serializer would have dropped reach the server.
    const size = (established.spec as typeof crd.spec).versions[0]!.schema.openAPIV3Schema.properties.spec.properties;
    expect(size.size).toMatchObject({ enum: ["small", "large"], default: "small" });
    expect(size.extra["x-kubernetes-preserve-unknown-fields"]).toBe(true);
    const stored = await getObject(cp.kc, refOf(widget));
    expect(stored!.spec).toEqual({ size: "small", extra: { anything: { goes: 1 } } });

    const deleted = await deleteByLabel(cp.kc, "kubeyard.dev/test=crd", [
      { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" },
      { apiVersion: "test.kubeyard.dev/v1", kind: "Widget" },
    ]);
    expect(deleted.map((r) => `${r.kind}/${r.namespace ?? ""}/${r.name}`).sort()).toEqual([
      "CustomResourceDefinition//widgets.test.kubeyard.dev",
      "Widget/default/w1",
      "Widget/widgets/w1",
    ]);
    expect(await getObject(cp.kc, refOf(crd))).toBeUndefined();
  });
});
