import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/poll.js";

describe("eventually", () => {
  it("retries until the attempt stops throwing, and returns what it returned", async () => {
    let calls = 0;
    const value = await eventually(
      "the third call",
      () => {
        calls++;
        if (calls < 3) throw new Error(`call ${calls}`);
        return "done";
      },
      { timeoutMs: 5_000, intervalMs: 1 },
    );
    expect(value).toBe("done");
    expect(calls).toBe(3);
  });

  it("fails after the timeout, saying what never happened and what the last attempt said", async () => {
    let calls = 0;
    const failure = eventually("the moon to turn blue", () => expect(`call ${++calls}`).toBe("blue"), { timeoutMs: 50, intervalMs: 5 });
    await expect(failure).rejects.toThrow(
      /^gave up waiting for the moon to turn blue after 0.05 s; the last attempt said: expected 'call \d+'/,
    );
  });

  it("is bounded even by an attempt that never ends", async () => {
    const started = Date.now();
    const failure = eventually("an answer", () => new Promise(() => undefined), { timeoutMs: 50 });
    await expect(failure).rejects.toThrow("gave up waiting for an answer after 0.05 s; the last attempt had not finished");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("gives up at once when its signal is aborted", async () => {
    const died = new AbortController();
    setTimeout(() => died.abort(new Error("etcd exited (code 1)")), 20);
    const failure = eventually("the API server", () => Promise.reject(new Error("refused")), { timeoutMs: 60_000, signal: died.signal });
    await expect(failure).rejects.toThrow("gave up waiting for the API server: etcd exited (code 1)");
  });
});
