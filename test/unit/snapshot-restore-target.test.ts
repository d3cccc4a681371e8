import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempKubeyardHome } from "../helpers/temp-home.js";
import { pkiDir, type ClusterState } from "../../src/cluster/state.js";
import { refuseOtherCluster } from "../../src/ops/snapshot.js";
import { PKI, snapshotDir, type SnapshotManifest } from "../../src/snapshot/store.js";

useTempKubeyardHome("kubeyard-restore-");

const manifest: SnapshotManifest = {
  format: 1,
  name: "s",
  profile: "c1",
  kubernetesVersion: "1.37.1",
  createdAt: "2026-12-06T00:00:00Z",
  nodes: [{ name: "c1-control-plane", role: "control-plane", images: [] }],
  addons: [],
  pausedMs: 0,
  files: {},
};

function cluster(over: { nodes?: ClusterState["nodes"]; version?: string; ca?: string } = {}): ClusterState {
  mkdirSync(pkiDir("c1"), { recursive: true });
  writeFileSync(path.join(pkiDir("c1"), "ca.crt"), over.ca ?? "the CA");
  mkdirSync(path.join(snapshotDir("s"), PKI), { recursive: true });
  writeFileSync(path.join(snapshotDir("s"), PKI, "ca.crt"), "the CA");
  return {
    name: "c1",
    config: { kubernetesVersion: over.version ?? "1.37.1" },
    nodes: over.nodes ?? [{ name: "c1-control-plane", role: "control-plane", ip: "172.28.0.2" }],
  } as ClusterState;
}

describe("the cluster a snapshot is restored into", () => {
  it("is accepted when it is the one saved", async () => {
    await expect(refuseOtherCluster(cluster(), manifest)).resolves.toBeUndefined();
  });

  it("is refused with other nodes, saying both", async () => {
    const nodes: ClusterState["nodes"] = [
      { name: "c1-control-plane", role: "control-plane", ip: "172.28.0.2" },
      { name: "c1-worker", role: "worker", ip: "172.28.0.3" },
    ];
    await expect(refuseOtherCluster(cluster({ nodes }), manifest)).rejects.toThrow(
      'cluster "c1" has nodes c1-control-plane/control-plane, c1-worker/worker, the snapshot c1-control-plane/control-plane',
    );
  });

  it("is refused with another Kubernetes version", async () => {
    await expect(refuseOtherCluster(cluster({ version: "1.36.4" }), manifest)).rejects.toThrow(
      'cluster "c1" runs Kubernetes 1.36.4, the snapshot 1.37.1',
    );
  });

  it("is refused when it was made again after the snapshot", async () => {
    await expect(refuseOtherCluster(cluster({ ca: "another CA" }), manifest)).rejects.toThrow(
      'cluster "c1" was made again after the snapshot (its CA differs)',
    );
  });
});
