import { describe, expect, it } from "vitest";
import {
  cgroupCheck,
  delegationCheck,
  engineUid,
  hostRefusal,
  inotifyCheck,
  parseControllers,
  portsCheck,
  runHostChecks,
  subnetCheck,
  userServiceControllersFile,
} from "../../src/cluster/host-checks.js";
import type { EngineHost } from "../../src/drivers/types.js";
import { UserError } from "../../src/util/errors.js";
import { FakeDriver } from "../helpers/fake-driver.js";

const rootful: EngineHost = {
  engine: "docker",
  address: "unix:///var/run/docker.sock",
  version: "26.1.5",
  rootless: false,
  cgroupVersion: 1,
  cgroupDriver: "cgroupfs",
};
const rootless: EngineHost = {
  engine: "podman",
  address: "unix:///run/user/1000/podman/podman.sock",
  version: "5.4.2",
  rootless: true,
  cgroupVersion: 2,
  cgroupDriver: "systemd",
};

describe("host checks", () => {
  it("parses a cgroup.controllers file", () => {
    expect(parseControllers("cpuset cpu io memory pids\n")).toEqual(["cpuset", "cpu", "io", "memory", "pids"]);
    expect(parseControllers("\n")).toEqual([]);
    expect(userServiceControllersFile(1000)).toBe("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers");
  });

  it("passes a rootful engine on cgroup v1 and refuses a rootless one there", () => {
    expect(cgroupCheck(rootful)).toMatchObject({ result: "ok", detail: "cgroup v1, cgroupfs driver" });
    expect(cgroupCheck({ ...rootless, cgroupVersion: 1 }).result).toBe("fail");
    expect(cgroupCheck(rootless).result).toBe("ok");
  });

  it("judges a rootless engine's delegated controllers", () => {
    expect(delegationCheck(rootful, 0, undefined)).toMatchObject({ result: "ok" });
    expect(delegationCheck({ ...rootless, cgroupVersion: 1 }, 1000, undefined)).toBeUndefined();
    expect(delegationCheck(rootless, 1000, parseControllers("cpuset cpu io memory pids"))?.result).toBe("ok");
    const partial = delegationCheck(rootless, 1000, parseControllers("memory pids"));
    expect(partial).toMatchObject({ result: "fail" });
    expect(partial?.detail).toContain("cpu not delegated to uid 1000");
    expect(partial?.fix).toContain("Delegate=");
    const noIo = delegationCheck(rootless, 1000, parseControllers("cpu memory pids"));
    expect(noIo).toMatchObject({ result: "warn" });
    expect(noIo?.detail).toContain("cpuset, io not delegated");
    expect(delegationCheck(rootless, 1000, undefined)?.result).toBe("warn");
  });

  it("warns on a low inotify limit and fails without a free subnet", () => {
    expect(inotifyCheck(1024, 2, 1).result).toBe("ok");
    const low = inotifyCheck(128, 4, 3);
    expect(low.result).toBe("warn");
    expect(low.detail).toContain("7 nodes need about 175");
    expect(low.fix).toContain("sysctl");
    expect(inotifyCheck(undefined, 0, 1).result).toBe("ok");
    expect(subnetCheck("172.28.0.0/24").result).toBe("ok");
    expect(subnetCheck(undefined).result).toBe("fail");
  });

  it("says which ports a rootless engine cannot publish, and how to allow 80 and 443", () => {
    expect(portsCheck(rootful, 1024).result).toBe("ok");
    expect(portsCheck(rootless, 80).result).toBe("ok");
    const high = portsCheck(rootless, 1024);
    expect(high).toMatchObject({ result: "warn" });
    expect(high.detail).toContain("from 1024 on only");
    expect(high.fix).toContain("net.ipv4.ip_unprivileged_port_start=80");
    expect(portsCheck(rootless, undefined).result).toBe("warn");
  });

  it("takes a rootless engine's uid from a /run/user socket in DOCKER_HOST", () => {
    expect(engineUid("unix:///run/user/1000/podman/podman.sock", 0)).toBe(1000);
    expect(engineUid("unix:///var/run/docker.sock", 1234)).toBe(1234);
  });

  it("refuses with the first failing check and its fix, and not for warnings", () => {
    expect(hostRefusal([inotifyCheck(10, 0, 1)])).toBeUndefined();
    const err = hostRefusal([inotifyCheck(10, 0, 1), subnetCheck(undefined)]);
    expect(err).toBeInstanceOf(UserError);
    expect(err?.message).toContain("(network): no free private /24");
    expect(err?.hint).toContain("docker network prune");
  });

  it("reports an engine that does not answer as a failing check, and nothing that needs it", async () => {
    const driver = new FakeDriver();
    driver.preflightError = new UserError("No container engine answers at unix:///x.sock.", "Start Docker.");
    const report = await runHostChecks(driver, { nodesToAdd: 1, network: {} });
    expect(report.engine).toBeUndefined();
    expect(report.checks).toEqual([{ check: "engine", result: "fail", detail: driver.preflightError.message, fix: "Start Docker." }]);
  });

  it("checks the network only when one is to be made", async () => {
    const driver = new FakeDriver();
    driver.engine = rootful;
    driver.subnetsExhausted = true;
    const withNet = await runHostChecks(driver, { nodesToAdd: 1, network: {} });
    expect(withNet.checks.map((c) => `${c.check}:${c.result}`)).toContain("network:fail");
    const without = await runHostChecks(driver, { nodesToAdd: 1 });
    expect(without.checks.map((c) => c.check)).toEqual(["engine", "cgroups", "cgroup delegation", "inotify", "published ports"]);
  });
});
