import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { haproxyConfig, podNetworkHook, POD_MASQ_CHAIN, type ComponentContext } from "../../src/components/index.js";
import { resolveConfig } from "../../src/config/index.js";
import type { ClusterState } from "../../src/cluster/state.js";
import {
  apiServerEndpoint,
  componentContext,
  needsLoadBalancer,
  placedFromState,
  placeLoadBalancer,
  placeNodes,
} from "../../src/cluster/topology.js";

async function threeNodes(controlPlanes = 1) {
  const config = await resolveConfig({ flags: { profile: "mn", nodes: 3 + controlPlanes - 1, controlPlanes } });
  return { config, placed: placeNodes(config, "172.30.5.0/24") };
}

describe("node placement", () => {
  it("gives each node its own address and pod range, in order", async () => {
    const { placed } = await threeNodes();
    expect(placed.map((p) => [p.config.name, p.ip, p.podCIDR])).toEqual([
      ["mn-control-plane", "172.30.5.2", "10.244.0.0/24"],
      ["mn-worker", "172.30.5.3", "10.244.1.0/24"],
      ["mn-worker2", "172.30.5.4", "10.244.2.0/24"],
    ]);
  });

  it("puts a load balancer in front of several control planes, at the network's last address", async () => {
    const one = await threeNodes(1);
    const three = await threeNodes(3);
    expect(needsLoadBalancer(one.config)).toBe(false);
    expect(needsLoadBalancer(three.config)).toBe(true);
    const lb = placeLoadBalancer("mn", "172.30.5.0/24");
    expect(lb).toEqual({ name: "mn-external-load-balancer", ip: "172.30.5.254" });
    expect(apiServerEndpoint(three.placed, lb)).toBe("https://172.30.5.254:6443");
    expect(apiServerEndpoint(one.placed)).toBe("https://172.30.5.2:6443");
    const ctx = componentContext(three.config, three.placed, three.placed[4]!, lb);
    expect(ctx.apiServerEndpoint).toBe("https://172.30.5.254:6443");
    expect(ctx.controlPlanes.map((m) => m.name)).toEqual(["mn-control-plane", "mn-control-plane2", "mn-control-plane3"]);
    expect(ctx.peers).toHaveLength(5);
  });

  it("reads nodes back from the state with the pod ranges they were given, not by their order", async () => {
    const { config, placed } = await threeNodes();
    // mn-worker was deleted and mn-worker3 added later, in the freed range.
    const nodes = [placed[0]!, placed[2]!].map((p) => ({ name: p.config.name, role: p.config.role, ip: p.ip, podCIDR: p.podCIDR }));
    nodes.push({ name: "mn-worker3", role: "worker", ip: "172.30.5.3", podCIDR: "10.244.1.0/24" });
    const state = {
      name: "mn",
      config: { ...config, nodes: [config.nodes[0]!, config.nodes[2]!, { ...config.nodes[1]!, name: "mn-worker3" }] },
      network: { name: "kubeyard-mn", subnet: "172.30.5.0/24", gateway: "172.30.5.1" },
      nodes,
    } as unknown as ClusterState;
    expect(placedFromState(state).map((p) => [p.config.name, p.ip, p.podCIDR])).toEqual([
      ["mn-control-plane", "172.30.5.2", "10.244.0.0/24"],
      ["mn-worker2", "172.30.5.4", "10.244.2.0/24"],
      ["mn-worker3", "172.30.5.3", "10.244.1.0/24"],
    ]);
  });
});

describe("pod network hook", () => {
  async function hookFor(index: number): Promise<string> {
    const { config, placed } = await threeNodes();
    return podNetworkHook(componentContext(config, placed, placed[index]!));
  }

  it("routes every other node's pod range via that node, and not its own", async () => {
    const hook = await hookFor(1);
    expect(hook).toContain("ip -4 route replace 10.244.0.0/24 via 172.30.5.2 proto static");
    expect(hook).toContain("ip -4 route replace 10.244.2.0/24 via 172.30.5.4 proto static");
    expect(hook).not.toContain("10.244.1.0/24 via");
    expect(hook).toContain('wanted=" 10.244.0.0/24 10.244.2.0/24 "');
  });

  it("masquerades only pod traffic that leaves the pod subnet", async () => {
    const hook = await hookFor(0);
    expect(hook).toContain(`iptables -t nat -A ${POD_MASQ_CHAIN} -d 10.244.0.0/16 -j RETURN`);
    expect(hook).toContain(`iptables -t nat -A ${POD_MASQ_CHAIN} -j MASQUERADE`);
    expect(hook).toContain(`-A POSTROUTING -s 10.244.0.0/24 -j ${POD_MASQ_CHAIN}`);
  });

  it("turns bridge netfiltering on, or else masquerades Service traffic between the node's own pods", async () => {
    const hook = await hookFor(0);
    expect(hook).toContain("modprobe br_netfilter");
    expect(hook).toContain("nf=/proc/sys/net/bridge/bridge-nf-call-iptables");
    expect(hook).toContain(`-A ${POD_MASQ_CHAIN} -o kubeyard0 -d 10.244.0.0/24 -m conntrack --ctstate DNAT -j MASQUERADE`);
  });

  it("is a script bash parses, for a control plane and a worker", async () => {
    for (const hook of [await hookFor(0), await hookFor(1)]) {
      const r = spawnSync("bash", ["-n"], { input: hook, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it("refuses a peer whose address cannot carry the pod subnet's family", async () => {
    const { config, placed } = await threeNodes();
    const ctx: ComponentContext = {
      ...componentContext(config, placed, placed[0]!),
      peers: [{ name: "mn-worker", ip: "fd00::3", podCIDR: "10.244.1.0/24" }],
    };
    expect(() => podNetworkHook(ctx)).toThrow(/cannot route IPv4 pod traffic/);
  });
});

describe("load balancer config", () => {
  it("passes TCP through to every control plane with health checks", () => {
    const cfg = haproxyConfig([
      { name: "mn-control-plane", ip: "172.30.5.2" },
      { name: "mn-control-plane2", ip: "172.30.5.3" },
    ]);
    expect(cfg).toContain("mode tcp");
    expect(cfg).toContain("bind *:6443");
    expect(cfg).toMatch(/server mn-control-plane 172\.30\.5\.2:6443 check/);
    expect(cfg).toMatch(/server mn-control-plane2 172\.30\.5\.3:6443 check/);
  });
});
