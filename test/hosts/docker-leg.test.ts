import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

// The host matrix's cgroup v2 + systemd + Docker leg, run by the suite itself: a Debian trixie VM under QEMU
// (test/hosts/README.md) runs the e2e subset against its own engine. The other legs: `npm run test:hosts`.
describe("host matrix: cgroup v2, systemd, Docker", () => {
  it("a Debian trixie VM with docker.io's systemd cgroup driver passes the e2e subset", { timeout: 70 * 60_000 }, async () => {
    const leg = await execa("test/hosts/run-leg.sh", ["docker"], {
      reject: false,
      all: true,
      // The subset starts its own clusters; the VM gets 55 minutes (the whole leg took 18 in CI on one machine,
      // and its VM passed 45 on another, whose emulation was slower).
      env: { KUBEYARD_HOSTS_HAND_START: "0", KUBEYARD_HOSTS_TIMEOUT: "3300" },
    });
    const out = /output in (\S+)$/m.exec(leg.all)?.[1];
    expect(out, leg.all).toBeDefined();
    const read = (f: string) => readFile(path.join(out!, f), "utf8").catch(() => "");
    const [facts, run, log] = await Promise.all([read("host-facts.txt"), read("run.log"), read("vitest.log")]);
    const vitest = log.replace(/\x1b\[[0-9;]*m/g, ""); // eslint-disable-line no-control-regex -- colours, should any remain
    expect(facts, "the guest's cgroup file system").toMatch(/^cgroup fs: cgroup2fs$/m);
    expect(run, "the guest's engine").toMatch(/^docker \S+, cgroup 2 driver systemd/m);
    // What failed in the guest, as its vitest printed it, beside the leg's summary.
    const failures = vitest.includes("Failed Tests")
      ? vitest.slice(vitest.indexOf("Failed Tests"), vitest.indexOf("Failed Tests") + 6000)
      : "";
    expect(leg.exitCode, `${leg.all}\n${failures}`).toBe(0);
    // Every test of the subset passed: "Tests  8 passed (8)", nothing failed or skipped.
    expect(vitest, vitest.slice(-3000)).toMatch(/^\s+Tests\s+(\d+) passed \(\1\)$/m);
  });
});
