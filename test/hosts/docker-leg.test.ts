import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

// The host matrix's cgroup v2 + systemd + Docker leg, run by the suite itself: a Debian trixie VM under QEMU
// (test/hosts/README.md) runs the e2e subset against its own engine. The other legs: `npm run test:hosts`.
// It runs alone, as every system test file does: the emulated guest needs the host's CPU, and one starved
// of it sees its own timeouts fire (TLS handshakes with its API server, probes), as a run beside a
// multi-node cluster on the host showed.
describe("host matrix: cgroup v2, systemd, Docker", () => {
  it("a Debian trixie VM with docker.io's systemd cgroup driver passes the e2e subset", { timeout: 50 * 60_000 }, async () => {
    // cluster-workloads alone: host-essentials (the rest of the default subset) has not passed in a VM yet, and its first
    // three tests alone took 28 minutes there.
    const leg = await execa("test/hosts/run-leg.sh", ["docker", "test/e2e/cluster-workloads.test.ts"], {
      reject: false,
      all: true,
      // The subset starts its own clusters; dist is the suite's own build. The VM gets 44 minutes (alone on this
      // machine it took 29): with a cold start of the rest of the suite, a CI run stays within its 90.
      env: { KUBEYARD_HOSTS_HAND_START: "0", KUBEYARD_HOSTS_PREBUILT: "1", KUBEYARD_HOSTS_TIMEOUT: "2640" },
    });
    console.log(leg.all); // each guest test with its time, in the suite's own output
    const out = /output in (\S+)$/m.exec(leg.all)?.[1];
    expect(out, leg.all).toBeDefined();
    const read = (f: string) => readFile(path.join(out!, f), "utf8").catch(() => "");
    const [facts, run, log] = await Promise.all([read("host-facts.txt"), read("run.log"), read("vitest.log")]);
    const vitest = log.replace(/\x1b\[[0-9;]*m/g, ""); // eslint-disable-line no-control-regex -- colours, should any remain
    expect(facts, "the guest's cgroup file system").toMatch(/^cgroup fs: cgroup2fs$/m);
    expect(run, "the guest's engine").toMatch(/^docker \S+, cgroup 2 driver systemd/m);
    // What failed in the guest, as its vitest printed it, beside the leg's summary.
    const at = vitest.indexOf("Failed Tests");
    expect(leg.exitCode, `${leg.all}\n${at < 0 ? "" : vitest.slice(at, at + 6000)}`).toBe(0);
    // Every test of the subset passed: "Tests  8 passed (8)", nothing failed or skipped.
    expect(vitest, vitest.slice(-3000)).toMatch(/^\s+Tests\s+(\d+) passed \(\1\)$/m);
  });
});
