import { describe, expect, it } from "vitest";
import { cidrsOverlap, formatCIDR, formatIP, nthAddress, parseCIDR, parseIP, type CIDR } from "../../src/config/ip.js";
import { checkImageRef } from "../../src/config/image-ref.js";
import { checkLabelValue, checkQualifiedName } from "../../src/config/k8s-names.js";

function cidr(text: string): CIDR {
  const r = parseCIDR(text);
  if (!r.ok) throw new Error(`${text}: ${r.problem}`);
  return r.cidr;
}

describe("IP addresses", () => {
  it.each([
    ["10.96.0.10", "10.96.0.10"],
    ["::", "::"],
    ["::1", "::1"],
    ["FD00:0:0:0:0:0:0:A", "fd00::a"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["::ffff:10.0.0.1", "::ffff:a00:1"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ])("parses %s and prints it as %s", (input, printed) => {
    const ip = parseIP(input);
    expect(ip).toBeDefined();
    expect(formatIP(ip!)).toBe(printed);
    expect(parseIP(printed)).toEqual(ip);
  });

  it.each(["10.0.0", "010.0.0.1", "256.0.0.1", "fe80::1%eth0", "1::2::3", "localhost", ""])("refuses %j", (input) => {
    expect(parseIP(input)).toBeUndefined();
  });
});

describe("CIDR ranges", () => {
  it("says what is wrong with a malformed range", () => {
    expect(parseCIDR("10.0.0.0")).toEqual({ ok: false, problem: "is not a CIDR range" });
    expect(parseCIDR("10.0.0/8")).toEqual({ ok: false, problem: "does not start with a valid IP address" });
    expect(parseCIDR("10.0.0.0/33")).toEqual({ ok: false, problem: "has a prefix longer than 32 bits" });
    expect(parseCIDR("10.96.0.1/12")).toEqual({ ok: false, problem: "has host bits set (did you mean 10.96.0.0/12?)" });
    expect(parseCIDR("fd00::1/64")).toEqual({ ok: false, problem: "has host bits set (did you mean fd00::/64?)" });
  });

  it("finds overlaps in either direction and only within one family", () => {
    expect(cidrsOverlap(cidr("10.96.0.0/12"), cidr("10.100.0.0/16"))).toBe(true);
    expect(cidrsOverlap(cidr("10.100.0.0/16"), cidr("10.96.0.0/12"))).toBe(true);
    expect(cidrsOverlap(cidr("10.244.0.0/16"), cidr("10.96.0.0/12"))).toBe(false);
    expect(cidrsOverlap(cidr("10.112.0.0/12"), cidr("10.96.0.0/12"))).toBe(false);
    expect(cidrsOverlap(cidr("fd00:10:96::/112"), cidr("fd00:10::/32"))).toBe(true);
    expect(cidrsOverlap(cidr("0.0.0.0/8"), cidr("::/8"))).toBe(false);
  });

  it("counts addresses from the network address", () => {
    expect(formatIP(nthAddress(cidr("10.96.0.0/12"), 10))).toBe("10.96.0.10");
    expect(formatIP(nthAddress(cidr("172.16.255.0/24"), 255))).toBe("172.16.255.255");
    expect(formatIP(nthAddress(cidr("fd00:10:96::/112"), 10))).toBe("fd00:10:96::a");
    expect(() => nthAddress(cidr("10.0.0.0/30"), 4)).toThrow(RangeError);
    expect(formatCIDR(cidr("FD00:10:244:0::/56"))).toBe("fd00:10:244::/56");
  });
});

describe("Kubernetes names", () => {
  it.each(["tier", "example.com/tier", "app.kubernetes.io/name", "A_b.c-D", "node-role.kubernetes.io/control-plane"])(
    "accepts the key %j",
    (key) => expect(checkQualifiedName(key)).toBeUndefined(),
  );
  it.each(["", "-a", "a-", "Example.com/x", "a/b/c", "/x", "x/", "a b", `${"a".repeat(64)}`])("refuses the key %j", (key) => {
    expect(checkQualifiedName(key)?.allowed).toContain("starting and ending with a letter or digit");
  });
  it("takes empty label values but not long or odd ones", () => {
    expect(checkLabelValue("")).toBeUndefined();
    expect(checkLabelValue("v1.2_3-x")).toBeUndefined();
    expect(checkLabelValue("a".repeat(64))?.problem).toBe("is 64 characters long");
    expect(checkLabelValue("a b")?.problem).toBe("is not a valid label value");
  });
});

describe("image references", () => {
  it.each([
    "kubeyard/node",
    "kubeyard/node:v1.37.1",
    "localhost:5000/node:dev",
    "registry.example.com/a/b/c:tag_1",
    `node@sha256:${"a".repeat(64)}`,
    `example.com/node:v1@sha256:${"0".repeat(64)}`,
  ])("accepts %s", (ref) => expect(checkImageRef(ref)).toBeUndefined());
  it.each(["", "Node", "node:", "node:-x", "a b", "node@sha256:xyz", "example.com//node"])("refuses %j", (ref) => {
    expect(checkImageRef(ref)?.problem).toBe("is not a valid image reference");
  });
});
