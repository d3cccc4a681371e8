import type { KubeObject } from "./types.js";

// Apart from apply.ts so that what only orders objects (rendering an addon) does not load the client.

const CRD_API_GROUP = "apiextensions.k8s.io/";

type Typed = Pick<KubeObject, "apiVersion" | "kind">;

export function isNamespace(obj: Typed): boolean {
  return obj.kind === "Namespace" && obj.apiVersion === "v1";
}

export function isCrd(obj: Typed): boolean {
  return obj.kind === "CustomResourceDefinition" && (obj.apiVersion ?? "").startsWith(CRD_API_GROUP);
}

/** 0 for Namespaces, 1 for CRDs, 2 for everything else: what must exist before what. */
export function applyRank(obj: Typed): number {
  return isNamespace(obj) ? 0 : isCrd(obj) ? 1 : 2;
}

/**
 * Namespaces first (their contents cannot be created before them), then CRDs (their resources
 * cannot be), then the rest in the order given. The sort is stable, so an addon's own order is
 * kept within each group.
 */
export function applyOrder<T extends Typed>(objects: readonly T[]): T[] {
  return objects
    .map((obj, index) => ({ obj, index }))
    .sort((a, b) => applyRank(a.obj) - applyRank(b.obj) || a.index - b.index)
    .map(({ obj }) => obj);
}
