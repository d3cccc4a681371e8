import { describe, expect, it } from "vitest";
import type { V1PersistentVolume } from "@kubernetes/client-node";
import { withNodesRenamed } from "../../src/snapshot/adopt-nodes.js";

const localVolume = (node: string): V1PersistentVolume => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: "pvc-1", uid: "u-1", resourceVersion: "42", finalizers: ["kubernetes.io/pv-protection"], labels: { a: "b" } },
  spec: {
    capacity: { storage: "1Gi" },
    hostPath: { path: "/var/local-path-provisioner/pvc-1_ns_data" },
    claimRef: { kind: "PersistentVolumeClaim", namespace: "ns", name: "data", uid: "c-1", resourceVersion: "7" },
    nodeAffinity: {
      required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] },
    },
  },
  status: { phase: "Bound" },
});

describe("a copy's volumes", () => {
  const renamed = new Map([["old-control-plane", "new-control-plane"]]);

  it("are made again on the copy's node, bound to the same claim, without the old object's identity", () => {
    const moved = withNodesRenamed(localVolume("old-control-plane"), renamed)!;
    expect(moved.spec!.nodeAffinity!.required!.nodeSelectorTerms[0]!.matchExpressions![0]!.values).toEqual(["new-control-plane"]);
    expect(moved.spec!.claimRef).toEqual({
      kind: "PersistentVolumeClaim",
      namespace: "ns",
      name: "data",
      uid: "c-1",
      resourceVersion: undefined,
    });
    expect(moved.metadata).toEqual({ name: "pvc-1", labels: { a: "b" }, annotations: undefined });
    expect(moved.spec!.hostPath).toEqual({ path: "/var/local-path-provisioner/pvc-1_ns_data" });
    expect(moved.status).toBeUndefined();
  });

  it("on other nodes are left alone", () => {
    expect(withNodesRenamed(localVolume("elsewhere"), renamed)).toBeUndefined();
  });
});
