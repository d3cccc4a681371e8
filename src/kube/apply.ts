import { HttpMethod, PatchStrategy, type KubeConfig } from "@kubernetes/client-node";
import { objectApi, requestJson } from "./object-api.js";
import { applyOrder, isCrd } from "./apply-order.js";
import { retryWhileBusy } from "./busy-retry.js";
import { describeRef, refOf, type KubeObject } from "./types.js";
import { waitForCondition, type WaitOptions } from "./wait.js";

export interface ApplyOptions extends WaitOptions {
  /** The owner of the applied fields; "kubeyard" unless told. */
  fieldManager?: string;
  /** Take over fields another manager owns (kubectl edit, a Helm release); default true. */
  force?: boolean;
}

/**
 * Server-side applies every object, as `kubectl apply --server-side --force-conflicts` would: the
 * API server merges, so applying the same objects again changes nothing. Objects go in
 * {@link applyOrder}; after the CRDs, it waits (by watching) until each is Established, since
 * until then the API rejects their custom resources. An apply the server was too busy to finish is sent
 * again. Returns the objects as the server stored them.
 *
 * The body is sent as plain JSON with the apply-patch content type (JSON is YAML). client-node's
 * own `patch()` would first pass it through its model serializer, which drops CRD schema fields
 * such as `x-kubernetes-preserve-unknown-fields`, `default` and `enum`.
 */
export async function serverSideApply(kc: KubeConfig, objects: readonly KubeObject[], opts: ApplyOptions = {}): Promise<KubeObject[]> {
  const api = objectApi(kc);
  const fieldManager = opts.fieldManager ?? "kubeyard";
  const force = opts.force ?? true;
  const applied: KubeObject[] = [];
  const ordered = applyOrder(objects);
  for (let i = 0; i < ordered.length; i++) {
    const obj = ordered[i]!;
    const ref = refOf(obj);
    if (!obj.kind || !obj.metadata?.name) {
      throw new Error(`cannot apply an object without kind and metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
    }
    const path = await api.path(ref, "read").catch((error: Error) => {
      throw new Error(`cannot apply ${describeRef(ref)}: ${error.message}`);
    });
    const stored = await retryWhileBusy(
      () =>
        requestJson<KubeObject>(kc, HttpMethod.PATCH, path, `apply ${describeRef(ref)}`, {
          query: { fieldManager, force },
          body: obj,
          contentType: PatchStrategy.ServerSideApply,
          signal: opts.signal,
        }),
      opts.signal,
    );
    applied.push(stored);
    const next = ordered[i + 1];
    if (isCrd(obj) && (!next || !isCrd(next))) {
      const crds = ordered.slice(0, i + 1).filter(isCrd);
      await Promise.all(
        crds.map((crd) =>
          waitForCondition(
            kc,
            { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd.metadata!.name! },
            "Established",
            "True",
            { timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal },
          ),
        ),
      );
    }
  }
  return applied;
}
