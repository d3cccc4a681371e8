import { describe, expect, it } from "vitest";
import { observe, progressVerdict, readyzStatus, remainingMs, startProgress } from "../../src/kube/api-progress.js";

const limits = { stallMs: 180_000, ceilingMs: 600_000 };
const s = 1000;

describe("API server readiness progress", () => {
  it("gives up after stallMs without a change in what is observed", () => {
    let p = startProgress(0);
    p = observe(p, "HTTP 500, failing checks: a, b", 10 * s);
    p = observe(p, "HTTP 500, failing checks: a, b", 100 * s);
    expect(progressVerdict(p, 189 * s, limits)).toBe("wait");
    expect(progressVerdict(p, 190 * s, limits)).toBe("stalled");
  });

  it("keeps waiting past stallMs while the failing checks change, up to the ceiling", () => {
    let p = startProgress(0);
    for (let t = 0; t < 600 * s; t += 120 * s) {
      p = observe(p, `HTTP 500, failing checks: step ${t}`, t);
      expect(progressVerdict(p, t + 119 * s, limits)).toBe("wait");
    }
    expect(progressVerdict(p, 600 * s, limits)).toBe("ceiling");
  });

  it("counts the first answer after connection errors as progress", () => {
    let p = startProgress(0);
    p = observe(p, "ECONNREFUSED", 1 * s);
    p = observe(p, "HTTP 500, failing checks: poststarthook/rbac/bootstrap-roles failed: reason withheld", 170 * s);
    expect(progressVerdict(p, 300 * s, limits)).toBe("wait");
    expect(remainingMs(p, 300 * s, limits)).toBe(50 * s);
  });

  it("reads the same set of failing checks in any order as the same status", () => {
    const a = readyzStatus(500, "[+]ping ok\n[-]x failed: reason withheld\n[-]a failed: reason withheld\nreadyz check failed");
    const b = readyzStatus(500, "[-]a failed: reason withheld\n[+]ping ok\n[-]x failed: reason withheld\n");
    expect(a).toBe("HTTP 500, failing checks: a failed: reason withheld, x failed: reason withheld");
    expect(b).toBe(a);
    expect(readyzStatus(503, "")).toBe("HTTP 503");
  });
});
