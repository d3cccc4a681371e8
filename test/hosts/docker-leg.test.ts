import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, inject, it } from "vitest";

// The host matrix's cgroup v2 + systemd + Docker leg, run by the suite itself: a Debian trixie VM under QEMU
// (test/hosts/README.md) runs the e2e subset against its own engine. The hosts project's global setup starts
// it beside the other tests; this test, run after them, waits for it. The other legs: `npm run test:hosts`.
describe("host matrix: cgroup v2, systemd, Docker", () => {
  it("a Debian trixie VM with docker.io's systemd cgroup driver passes the e2e subset", { timeout: 70 * 60_000 }, async () => {
    const { log, rc } = inject("dockerLeg");
    // The leg bounds its VM (55 minutes); this only waits for it to say how it ended.
    while (!existsSync(rc)) await sleep(5_000);
    const exitCode = Number((await readFile(rc, "utf8")).trim());
    const all = await readFile(log, "utf8");
    console.log(all); // each guest test with its time, in the suite's own output
    const out = /output in (\S+)$/m.exec(all)?.[1];
    expect(out, all).toBeDefined();
    const read = (f: string) => readFile(path.join(out!, f), "utf8").catch(() => "");
    const [facts, run, vitestLog] = await Promise.all([read("host-facts.txt"), read("run.log"), read("vitest.log")]);
    const vitest = vitestLog.replace(/\x1b\[[0-9;]*m/g, ""); // eslint-disable-line no-control-regex -- colours, should any remain
    expect(facts, "the guest's cgroup file system").toMatch(/^cgroup fs: cgroup2fs$/m);
    expect(run, "the guest's engine").toMatch(/^docker \S+, cgroup 2 driver systemd/m);
    // What failed in the guest, as its vitest printed it, beside the leg's summary.
    const at = vitest.indexOf("Failed Tests");
    expect(exitCode, `${all}\n${at < 0 ? "" : vitest.slice(at, at + 6000)}`).toBe(0);
    // Every test of the subset passed: "Tests  8 passed (8)", nothing failed or skipped.
    expect(vitest, vitest.slice(-3000)).toMatch(/^\s+Tests\s+(\d+) passed \(\1\)$/m);
  });
});
