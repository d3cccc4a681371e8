import path from "node:path";
import { describe, expect, it } from "vitest";
import { kubeconfigPath } from "../../src/kubeconfig/index.js";

describe("kubeconfigPath", () => {
  it("defaults to ~/.kube/config under HOME", () => {
    expect(kubeconfigPath({ HOME: "/home/ann" }, { platform: "linux" })).toBe("/home/ann/.kube/config");
  });

  it("treats an empty KUBECONFIG as unset", () => {
    expect(kubeconfigPath({ HOME: "/home/ann", KUBECONFIG: "" }, { platform: "linux" })).toBe("/home/ann/.kube/config");
    expect(kubeconfigPath({ HOME: "/home/ann", KUBECONFIG: "::" }, { platform: "linux" })).toBe("/home/ann/.kube/config");
  });

  it("uses the first entry of KUBECONFIG, skipping empty ones", () => {
    expect(kubeconfigPath({ HOME: "/h", KUBECONFIG: "/a/one:/b/two" }, { platform: "linux" })).toBe("/a/one");
    expect(kubeconfigPath({ HOME: "/h", KUBECONFIG: "::/b/two:/c" }, { platform: "darwin" })).toBe("/b/two");
  });

  it("splits KUBECONFIG on ';' on Windows, where ':' is part of a drive path", () => {
    const first = kubeconfigPath({ KUBECONFIG: ";C:\\Users\\ann\\kube-a;D:\\kube-b" }, { platform: "win32" });
    expect(first).toBe(path.resolve("C:\\Users\\ann\\kube-a"));
  });

  it("resolves a relative KUBECONFIG entry against the working directory", () => {
    expect(kubeconfigPath({ HOME: "/h", KUBECONFIG: "rel/config" }, { platform: "linux" })).toBe(path.resolve("rel/config"));
  });

  it("lets an explicit path win over KUBECONFIG", () => {
    expect(kubeconfigPath({ HOME: "/h", KUBECONFIG: "/a/one" }, { explicit: "/x/mine", platform: "linux" })).toBe("/x/mine");
  });
});
