import { describe, expect, it } from "vitest";
import { KubeApiError } from "../../src/kube/object-api.js";
import { isBusyApiError, retryWhileBusy } from "../../src/kube/busy-retry.js";

const timedOut = () =>
  new KubeApiError(
    "apply CustomResourceDefinition gateways: Timeout: request did not complete within requested timeout (HTTP 504)",
    504,
    "Timeout",
  );

describe("an API server too busy to answer", () => {
  it("is told apart from a refusal", () => {
    expect(isBusyApiError(timedOut())).toBe(true);
    expect(isBusyApiError(new KubeApiError("too many requests", 429, "TooManyRequests"))).toBe(true);
    expect(isBusyApiError(new KubeApiError("etcd is slow", 500, "ServerTimeout"))).toBe(true);
    expect(isBusyApiError(new KubeApiError("unavailable", 503))).toBe(true);
    expect(isBusyApiError(new KubeApiError("invalid", 422, "Invalid"))).toBe(false);
    expect(isBusyApiError(new KubeApiError("forbidden", 403, "Forbidden"))).toBe(false);
    expect(isBusyApiError(new KubeApiError("connection refused", 0))).toBe(false);
    expect(isBusyApiError(new Error("504"))).toBe(false);
  });

  it("gets the same request again, and its answer once it comes", async () => {
    let tries = 0;
    const answer = await retryWhileBusy(async () => {
      tries++;
      if (tries < 2) throw timedOut();
      return "applied";
    });
    expect({ answer, tries }).toEqual({ answer: "applied", tries: 2 });
  });

  it("is asked again only after as long as the try that ran into its deadline lasted", async () => {
    // The server's abandoned handler goes on for about that long; a try sent sooner would compete with it.
    const tryLasts = 500;
    const tries: { began: number; ended: number }[] = [];
    await retryWhileBusy(async () => {
      const began = performance.now();
      if (tries.length > 0) return tries.push({ began, ended: began });
      await new Promise((resolve) => setTimeout(resolve, tryLasts));
      tries.push({ began, ended: performance.now() });
      throw timedOut();
    });
    const [first, second] = tries;
    // p-retry's own first pause (1 s) comes on top.
    expect(second!.began - first!.ended).toBeGreaterThanOrEqual(first!.ended - first!.began + 1_000 - 5);
  });

  it("is not asked again after a refusal", async () => {
    let tries = 0;
    const refusal = new KubeApiError("apply Deployment web: spec.replicas: Invalid value (HTTP 422)", 422, "Invalid");
    await expect(
      retryWhileBusy(() => {
        tries++;
        return Promise.reject(refusal);
      }),
    ).rejects.toBe(refusal);
    expect(tries).toBe(1);
  });
});
