import { describe, expect, it } from "vitest";
import { conditionVerdict, daemonSetVerdict, deploymentVerdict, nodesVerdict, podsVerdict } from "../../src/kube/index.js";

// What an addon's readiness checks conclude from objects as the API server reports them.

const deployment = (spec: object, status: object, generation = 2) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "coredns", namespace: "kube-system", generation },
  spec,
  status,
});

describe("a Deployment is available", () => {
  it("when the latest spec is rolled out and every replica is available", () => {
    const ok = deployment(
      { replicas: 2 },
      {
        observedGeneration: 2,
        replicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
        conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }],
      },
    );
    expect(deploymentVerdict(ok)).toEqual({
      done: true,
      status: "2/2 replicas available, 2 up to date; Available=True (MinimumReplicasAvailable)",
    });
  });

  it("not while an old replica remains, nor before the controller saw the spec, nor when absent", () => {
    const rolling = deployment({ replicas: 2 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 });
    expect(deploymentVerdict(rolling).done).toBe(false);
    const stale = deployment({ replicas: 1 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 });
    expect(deploymentVerdict(stale)).toEqual({
      done: false,
      status: "the controller has not observed the latest spec yet (1/1 replicas available, 1 up to date)",
    });
    const unavailable = deployment(
      { replicas: 1 },
      {
        observedGeneration: 2,
        replicas: 1,
        updatedReplicas: 1,
        conditions: [{ type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "no pods" }],
      },
    );
    expect(deploymentVerdict(unavailable).status).toBe(
      "0/1 replicas available, 1 up to date; Available=False (MinimumReplicasUnavailable: no pods)",
    );
    expect(deploymentVerdict(undefined)).toEqual({ done: false, status: "not found" });
  });
});

describe("a DaemonSet is ready", () => {
  const ds = (status: object) => ({
    kind: "DaemonSet",
    metadata: { name: "x", generation: 1 },
    status: { observedGeneration: 1, ...status },
  });
  it("when every node that should run it runs the current spec, available", () => {
    expect(daemonSetVerdict(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }))).toEqual({
      done: true,
      status: "3/3 pods available, 3 up to date",
    });
    expect(daemonSetVerdict(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).done).toBe(false);
  });
});

describe("pods and nodes", () => {
  const pod = (name: string, ready: boolean, extra: object = {}) => ({
    kind: "Pod",
    metadata: { name, ...extra },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False", reason: ready ? undefined : "ContainersNotReady" }],
    },
  });

  it("pods are ready when there are enough and every live one is Ready", () => {
    expect(podsVerdict([pod("a", true), pod("b", true)], 2).done).toBe(true);
    expect(podsVerdict([pod("a", true)], 2)).toEqual({ done: false, status: "1/1 pods ready (want at least 2)" });
    expect(podsVerdict([pod("a", true), pod("b", false)])).toEqual({
      done: false,
      status: "1/2 pods ready; b: Running, Ready=False (ContainersNotReady)",
    });
    // A pod on its way out does not hold the wait up.
    expect(podsVerdict([pod("a", true), pod("old", false, { deletionTimestamp: "2026-01-01T00:00:00Z" })]).done).toBe(true);
    expect(podsVerdict([]).done).toBe(false);
  });

  it("after a node restarts, a pod on it counts only once its containers run again; pods on other nodes as they are", () => {
    const since = Date.parse("2026-12-06T10:00:00.400Z");
    const restarted = { nodes: ["n1"], sinceMs: since };
    const on = (node: string, startedAt: string[]) => ({
      ...pod("dns", true),
      spec: { nodeName: node },
      status: { ...pod("dns", true).status, containerStatuses: startedAt.map((t) => ({ state: { running: { startedAt: t } } })) },
    });
    // The saved status: Ready, from containers started before the restart.
    expect(podsVerdict([on("n1", ["2026-12-06T09:58:00Z"])], 1, restarted).done).toBe(false);
    expect(podsVerdict([on("n1", ["2026-12-06T09:58:00Z"])]).done).toBe(true);
    // The runtime's times have whole seconds: a start in the same second counts.
    expect(podsVerdict([on("n1", ["2026-12-06T10:00:00Z"])], 1, restarted).done).toBe(true);
    expect(podsVerdict([on("n1", ["2026-12-06T10:00:05Z", "2026-12-06T09:59:59Z"])], 1, restarted).done).toBe(false);
    // A node that kept running (or was only unpaused) keeps its containers: its pod's status is current.
    expect(podsVerdict([on("n2", ["2026-12-06T09:58:00Z"])], 1, restarted).done).toBe(true);
    expect(podsVerdict([on("n2", ["2026-12-06T09:58:00Z"])], 1, { nodes: [], sinceMs: since }).done).toBe(true);
  });

  it("nodes: one by name, or all of at least one", () => {
    const node = (name: string, ready: string) => ({
      kind: "Node",
      metadata: { name },
      status: { conditions: [{ type: "Ready", status: ready }] },
    });
    expect(nodesVerdict([node("a", "True"), node("b", "False")], "a").done).toBe(true);
    expect(nodesVerdict([node("a", "True")], "c")).toEqual({ done: false, status: "node c has not registered" });
    expect(nodesVerdict([node("a", "True"), node("b", "Unknown")])).toEqual({ done: false, status: "1/2 nodes ready; b: Ready=Unknown" });
    expect(nodesVerdict([])).toEqual({ done: false, status: "no node has registered" });
  });

  it("a condition with the wanted status, or what it holds instead", () => {
    const crd = {
      kind: "CustomResourceDefinition",
      status: { conditions: [{ type: "Established", status: "False", reason: "Installing" }] },
    };
    expect(conditionVerdict(crd, "Established")).toEqual({ done: false, status: "Established=False (Installing)" });
    expect(conditionVerdict(crd, "Established", "False").done).toBe(true);
    expect(conditionVerdict(crd, "NamesAccepted")).toEqual({ done: false, status: "no NamesAccepted condition yet" });
  });
});
