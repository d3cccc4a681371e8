import { describe, expect, it } from "vitest";
import { networkBackendError } from "../../src/drivers/docker/network-backend.js";
import { UserError } from "../../src/util/errors.js";

/** An engine error as dockerode gives it: the engine's message under json.message. */
const engineError = (message: string) => Object.assign(new Error(`(HTTP code 500) server error - ${message}`), { json: { message } });

describe("networkBackendError", () => {
  it("names the missing command and its package for netavark without nft", () => {
    const err = networkBackendError(
      engineError("netavark (exit code 1): nftables error: unable to execute nft: No such file or directory (os error 2)"),
      "node demo-control-plane",
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err?.message).toMatch(/^Cannot start node demo-control-plane: Podman's network backend \(netavark\) cannot run `nft`/);
    expect(err?.hint).toContain("sudo apt-get install nftables");
  });

  it("leaves other engine failures alone", () => {
    expect(networkBackendError(engineError("driver failed programming external connectivity"), "node x")).toBeUndefined();
    expect(networkBackendError(new Error("netavark (exit code 1): IO error: address in use"), "node x")).toBeUndefined();
  });
});
