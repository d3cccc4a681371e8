import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockProfile } from "../../src/cluster/state.js";
import { stopProfile } from "../../src/ops/cluster.js";
import { FakeDriver } from "../helpers/fake-driver.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kubeyard-lock-"));
  process.env.KUBEYARD_HOME = dir;
});
afterEach(() => {
  delete process.env.KUBEYARD_HOME;
  rmSync(dir, { recursive: true, force: true });
});

describe("the profile's lock", () => {
  it("holds a stop back while another kubeyard changes the cluster, then stops it", async () => {
    const driver = new FakeDriver();
    driver.images.add("kubeyard/node:test");
    await driver.createNode({
      cluster: "c1",
      name: "c1-control-plane",
      role: "control-plane",
      image: "kubeyard/node:test",
      ports: [],
      mounts: [],
    });
    const release = await lockProfile("c1");
    const stopping = stopProfile(driver, "c1");
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await driver.listNodes("c1")).map((n) => n.state)).toEqual(["running"]);
    await release();
    expect(await stopping).toEqual(["c1-control-plane"]);
    expect((await driver.listNodes("c1")).map((n) => n.state)).toEqual(["stopped"]);
  });
});
