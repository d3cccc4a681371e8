import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSteps } from "../../cmd/ui/tasks.js";
import { countedItems } from "../../src/artifacts/progress-items.js";
import { downloadGauge } from "../../src/artifacts/release-artifact.js";
import { humanDuration } from "../../src/util/progress.js";

/** What runSteps prints without a terminal (as under CI or in a pipe). */
async function plainOutput(run: Parameters<typeof runSteps>[0][number]["run"], verbose = false): Promise<string> {
  let out = "";
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  try {
    await runSteps([{ title: "node image", run }], { verbose });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe("progress of long work", () => {
  let ci: string | undefined;
  beforeEach(() => ((ci = process.env.CI), (process.env.CI = "1")));
  afterEach(() => (ci === undefined ? delete process.env.CI : (process.env.CI = ci)));

  it("without a terminal, prints each item's kept lines (start with its log, end with its time), not every state", async () => {
    const out = await plainOutput(async (step) => {
      const item = countedItems(3, step);
      await item("kubernetes", async (onStep) => {
        onStep("build from k8s.io/kubernetes@v1.37.1, 14m05s last time; log: /cache/logs/kubernetes.log", { keep: true });
        onStep("compile cmd/kubelet");
      });
      // Found in the cache: says nothing.
      await item("etcd", async () => undefined);
      await item("image coredns", async (onStep) => onStep("pull coredns"));
    });
    expect(out).toContain("[1/3] kubernetes: build from k8s.io/kubernetes@v1.37.1, 14m05s last time; log: /cache/logs/kubernetes.log");
    expect(out).toMatch(/\[1\/3\] kubernetes: done in \d+s/);
    expect(out).toMatch(/\[3\/3\] image coredns: done in \d+s/);
    expect(out).not.toContain("compile cmd/kubelet");
    expect(out).not.toContain("etcd");
    expect(await plainOutput(async (step) => step("compile cmd/kubelet"), true)).toContain("compile cmd/kubelet");
  });

  it("shows a download's bytes and a bar that moves once per percent", () => {
    const MiB = 1048576;
    expect(downloadGauge(93 * MiB, 266 * MiB)).toBe("[######..............] 34% 90/266 MiB");
    expect(downloadGauge(266 * MiB, 266 * MiB)).toBe("[####################] 100% 266/266 MiB");
    expect(downloadGauge(5 * MiB, undefined)).toBe("5 MiB");
  });

  it("says durations as a person reads them", () => {
    expect([45_000, 185_000, 3_720_000].map(humanDuration)).toEqual(["45s", "3m05s", "1h02m"]);
  });
});
