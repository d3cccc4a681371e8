import { describe, expect, it } from "vitest";
import { parseProcNetRoute } from "../../src/drivers/docker/host-routes.js";
import { candidateSubnets, chooseSubnet, looseCIDR, DEFAULT_AVOID } from "../../src/drivers/docker/subnet.js";
import { cidrsOverlap, formatCIDR } from "../../src/config/ip.js";

describe("chooseSubnet", () => {
  it("takes the first candidate when nothing is in use", () => {
    expect(chooseSubnet([])).toEqual({ subnet: "172.28.0.0/24", gateway: "172.28.0.1" });
  });

  it("skips every candidate an existing network or route overlaps, whatever its size", () => {
    const taken = ["172.17.0.0/16", "172.28.0.0/24", "172.28.1.128/25", "172.28.2.9/32"];
    expect(chooseSubnet(taken)?.subnet).toBe("172.28.3.0/24");
  });

  it("treats a wide range as covering all of its candidates", () => {
    // Docker's default pools hand out whole /16s of 172.16.0.0/12; a /12 blocks the first block entirely.
    expect(chooseSubnet(["172.16.0.0/12"])?.subnet).toBe("10.150.0.0/24");
  });

  it("never picks the default pod or service range", () => {
    const all = [...candidateSubnets()].map((s) => looseCIDR(s)!);
    const avoid = DEFAULT_AVOID.map((s) => looseCIDR(s)!);
    expect(all.length).toBeGreaterThan(1000);
    expect(all.filter((c) => avoid.some((a) => cidrsOverlap(a, c)))).toEqual([]);
    // Even when a caller's candidate list would offer them.
    expect(chooseSubnet([], DEFAULT_AVOID, ["10.244.3.0/24", "10.100.0.0/24", "10.112.0.0/24"])?.subnet).toBe("10.112.0.0/24");
  });

  it("honours a cluster's own pod and service ranges", () => {
    expect(chooseSubnet([], ["172.28.0.0/15"])?.subnet).toBe("172.30.0.0/24");
  });

  it("reads ranges with host bits set and ignores IPv6 and garbage", () => {
    expect(chooseSubnet(["172.28.0.77/24", "fd00::/8", "not-a-range", "172.28.1.0/99"])?.subnet).toBe("172.28.1.0/24");
  });

  it("says when no candidate is left", () => {
    expect(chooseSubnet(["0.0.0.0/1", "128.0.0.0/1"])).toBeUndefined();
  });

  it("returns canonical text even for a sloppy candidate", () => {
    expect(chooseSubnet([], [], ["192.168.77.5/24"])).toEqual({ subnet: "192.168.77.0/24", gateway: "192.168.77.1" });
  });
});

describe("looseCIDR", () => {
  it("masks host bits and reads a bare address as one host", () => {
    expect(formatCIDR(looseCIDR("192.168.1.7/24")!)).toBe("192.168.1.0/24");
    expect(formatCIDR(looseCIDR("10.0.0.1")!)).toBe("10.0.0.1/32");
    expect(looseCIDR("10.0.0.0/33")).toBeUndefined();
    expect(looseCIDR("10.0.0.0/8/1")).toBeUndefined();
  });
});

describe("parseProcNetRoute", () => {
  const table = [
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    "tun0\t0A00000A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0",
    "",
  ].join("\n");

  it("lists routed ranges in dotted notation and leaves out the default route", () => {
    expect(parseProcNetRoute(table)).toEqual(["172.17.0.0/16", "192.0.2.0/24", "10.0.0.10/32"]);
  });

  it("makes a host route block the candidate it falls in", () => {
    expect(chooseSubnet(parseProcNetRoute(table), DEFAULT_AVOID, ["10.0.0.0/24", "10.0.1.0/24"])?.subnet).toBe("10.0.1.0/24");
  });

  it("yields nothing for text that is not a route table", () => {
    expect(parseProcNetRoute("")).toEqual([]);
    expect(parseProcNetRoute("hello\nworld")).toEqual([]);
  });
});
