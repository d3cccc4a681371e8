import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { TestUser } from "./helpers/cli.js";

/* `kubeyard doctor` on this host, through the CLI: it creates nothing, so it needs no cluster. */

describe("kubeyard doctor", () => {
  const user = new TestUser();

  it("reports the engine's cgroup version and driver as docker info does, and passes here", async () => {
    const info = await execa("docker", ["info", "--format", "{{.CgroupVersion}} {{.CgroupDriver}}"]);
    const [version, driver] = info.stdout.trim().split(" ");

    const json = await user.kubeyard(["doctor", "-o", "json"]);
    expect(json.exitCode, String(json.all)).toBe(0);
    const report = JSON.parse(String(json.stdout)) as {
      ok: boolean;
      engine: { cgroupVersion: number; cgroupDriver: string };
      checks: { check: string; result: string }[];
    };
    expect(report.ok).toBe(true);
    expect(`${report.engine.cgroupVersion} ${report.engine.cgroupDriver}`).toBe(`${version} ${driver}`);
    expect(report.checks.map((c) => c.check)).toEqual(expect.arrayContaining(["engine", "cgroups", "inotify", "network"]));
    expect(report.checks.every((c) => c.result !== "fail")).toBe(true);

    const text = await user.kubeyard(["doctor"]);
    expect(text.exitCode, String(text.all)).toBe(0);
    expect(String(text.stdout)).toMatch(/^CHECK\s+RESULT\s+DETAIL\/FIX$/m);
    expect(String(text.stdout)).toMatch(new RegExp(`^cgroups\\s+ok\\s+cgroup v${version}, ${driver} driver$`, "m"));
  });

  it("fails with the fix when no engine answers", async () => {
    const r = await user.kubeyard(["doctor"], { env: { ...user.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
    expect(r.exitCode).toBe(1);
    expect(String(r.stdout)).toMatch(/^engine\s+fail\s+No container engine answers/m);
    expect(String(r.stdout)).toContain("fix: Start Docker");
  });
});
