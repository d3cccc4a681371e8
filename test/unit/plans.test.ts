import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describePlan } from "../../src/create/action.js";
import { planCreate, planResume } from "../../src/create/plan-start.js";
import { planNodeAdd } from "../../src/create/plan-node-add.js";
import type { ClusterState } from "../../src/cluster/state.js";
import { resolveConfig, type ConfigFlags } from "../../src/config/index.js";

/*
 * Plans are data: for a config (and, for resume and node add, a recorded state) the list of actions
 * and what each will do is fixed. Each plan is compared with a stored expectation in test/unit/plans/;
 * `UPDATE_PLANS=1 npx vitest run test/unit/plans.test.ts` rewrites them after an intended change,
 * and the diff of those files is the review of that change.
 */

const DIR = path.join(import.meta.dirname, "plans");
const KNOWN_ADDONS = ["coredns", "storage-provisioner", "default-storageclass", "ingress", "metrics-server", "registry"];

function expectPlan(name: string, text: string): void {
  const file = path.join(DIR, `${name}.txt`);
  if (process.env.UPDATE_PLANS) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, "utf8"));
}

async function config(flags: ConfigFlags, file?: string) {
  return resolveConfig({ flags: { profile: "demo", ...flags }, knownAddons: KNOWN_ADDONS, ...(file ? { file } : {}) });
}

/** The state `start` records for a config, on a network it was given. */
function stateOf(cfg: Awaited<ReturnType<typeof config>>, subnet = "172.30.1.0/24"): ClusterState {
  const base = subnet.replace(/0\/24$/, "");
  const cps = cfg.nodes.filter((n) => n.role === "control-plane").length;
  return {
    name: cfg.name,
    config: cfg,
    apiServerPort: 40000,
    network: { name: `kubeyard-${cfg.name}`, subnet, gateway: `${base}1` },
    nodes: cfg.nodes.map((n, i) => ({ name: n.name, role: n.role, ip: `${base}${i + 2}`, podCIDR: `10.244.${i}.0/24` })),
    ...(cps > 1 ? { loadBalancer: { name: `${cfg.name}-external-load-balancer`, ip: `${base}254` } } : {}),
    kubeconfigPath: "/home/user/.kube/config",
    addons: ["coredns", "storage-provisioner", "default-storageclass"],
    phase: "ready",
    createdAt: "2026-01-01T00:00:00.000Z",
  };
}

describe("start plans", () => {
  it("one node, the defaults", async () => {
    expectPlan("create-default", describePlan(planCreate(await config({}))));
  });

  it("three nodes: one control plane, two workers", async () => {
    expectPlan("create-3-nodes", describePlan(planCreate(await config({ nodes: "3" }))));
  });

  it("three control planes behind a load balancer", async () => {
    expectPlan("create-3-control-planes", describePlan(planCreate(await config({ controlPlanes: "3" }))));
  });

  it("five nodes, three of them control planes, with addons and a fixed API port", async () => {
    const cfg = await config({ nodes: "5", controlPlanes: "3", addons: "ingress,metrics-server", apiServerPort: "7443" });
    expectPlan("create-5-nodes-ha-addons", describePlan(planCreate(cfg)));
  });

  it("a config file with its own node names, an older version and a node image", async () => {
    const cfg = await config({ nodeImage: "example.test/node:custom", kubernetesVersion: "1.35" });
    expectPlan("create-custom-image-1.35", describePlan(planCreate(cfg)));
  });

  it("resuming a stopped three-node cluster", async () => {
    expectPlan("resume-3-nodes", describePlan(planResume(stateOf(await config({ nodes: "3" })))));
  });

  it("every node of a created cluster is provisioned by the same actions as a node added later", async () => {
    const create = planCreate(await config({ nodes: "2" })).actions.map((a) => a.name);
    const add = planNodeAdd(stateOf(await config({ nodes: "2" })), "worker").actions.map((a) => a.name);
    for (const shared of ["nodes", "certificates", "kubelet"]) {
      expect(create).toContain(shared);
      expect(add).toContain(shared);
    }
  });
});

describe("node add plans", () => {
  it("the first worker of a one-node cluster taints the control plane", async () => {
    expectPlan("node-add-first-worker", describePlan(planNodeAdd(stateOf(await config({})), "worker")));
  });

  it("a fourth control plane checks etcd's health before anything changes", async () => {
    const plan = planNodeAdd(stateOf(await config({ controlPlanes: "3" })), "control-plane");
    expect(plan.actions[0]!.name).toBe("etcd-health");
    expect(plan.node.config.name).toBe("demo-control-plane4");
    expectPlan("node-add-control-plane", describePlan(plan));
  });

  it("a control plane cannot be added to a cluster without a load balancer", async () => {
    const state = stateOf(await config({}));
    expect(() => planNodeAdd(state, "control-plane")).toThrow(/single control plane/);
  });
});
