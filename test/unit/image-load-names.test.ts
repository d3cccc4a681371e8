import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tar from "tar";
import { afterAll, describe, expect, it } from "vitest";
import { archivedImages, missingNames } from "../../src/day2/archive-names.js";
import { loadImages } from "../../src/day2/image-load.js";
import type { NodeSpec } from "../../src/drivers/types.js";
import { FakeDriver } from "../helpers/fake-driver.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "image-load-names-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const A = "a".repeat(64);
const B = "b".repeat(64);
const NODE_IMAGE = "kubeyard/node:v1.37.1";

function node(name: string): NodeSpec {
  return {
    cluster: "c1",
    name,
    role: name.endsWith("control-plane") ? "control-plane" : "worker",
    image: NODE_IMAGE,
    ports: [],
    mounts: [],
  };
}

async function twoNodeCluster(): Promise<FakeDriver> {
  const d = new FakeDriver();
  d.images.add(NODE_IMAGE);
  await d.createNode(node("c1-control-plane"));
  await d.createNode(node("c1-worker"));
  return d;
}

describe("the names an image archive gives its images", () => {
  it("reads the config digest from Docker's OCI-layout and classic (and Podman's) manifest entries", async () => {
    const dir = path.join(tmp, "archive");
    mkdirSync(dir);
    const manifest = [
      { Config: `blobs/sha256/${A}`, RepoTags: ["myapp:dev"], Layers: [] },
      { Config: `${B}.json`, RepoTags: null, Layers: [] },
    ];
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    const file = path.join(tmp, "archive.tar");
    await tar.c({ cwd: dir, file, portable: true }, ["manifest.json"]);
    expect(await archivedImages(file)).toEqual([
      { configDigest: `sha256:${A}`, tags: ["myapp:dev"] },
      { configDigest: `sha256:${B}`, tags: [] },
    ]);
  });

  it("pairs a name the user asked for with the name the archive gave instead, as Podman writes short names", () => {
    const archived = [
      { configDigest: `sha256:${A}`, tags: ["localhost/myapp:dev"] },
      { configDigest: `sha256:${B}`, tags: ["busybox:1.35.0"] },
    ];
    expect(
      missingNames(
        [
          { ref: "myapp:dev", id: `sha256:${A}` },
          { ref: "docker.io/library/busybox:1.35.0", id: `sha256:${B}` },
          { ref: "localhost/myapp:dev", id: `sha256:${A}` },
          { ref: A.slice(0, 12), id: `sha256:${A}` },
        ],
        archived,
      ),
    ).toEqual([{ source: "localhost/myapp:dev", target: "docker.io/library/myapp:dev" }]);
    // An image the archive names nowhere (or whose entry has no tags) gets nothing to be named after.
    expect(missingNames([{ ref: "myapp:dev", id: `sha256:${B}` }], [{ configDigest: `sha256:${B}`, tags: [] }])).toEqual([]);
  });
});

describe("image load names images in the nodes as a pod spec asks for them", () => {
  it("on Podman, an image it calls localhost/myapp:dev is also docker.io/library/myapp:dev in every node, after the import", async () => {
    const d = await twoNodeCluster();
    d.images.add("myapp:dev");
    d.images.archiveName = (ref) => (ref.includes("/") ? ref : `localhost/${ref}`);
    await loadImages(d, "c1", { images: ["myapp:dev"], archives: [] });
    for (const n of ["c1-control-plane", "c1-worker"]) {
      const cmds = d.execs.filter((e) => e.node === n && e.cmd[0] === "ctr").map((e) => e.cmd.slice(3, 5).join(" "));
      expect(cmds).toEqual(["images import", "images tag"]);
      const tag = d.execs.find((e) => e.node === n && e.cmd.includes("tag"))!;
      expect(tag.cmd).toEqual(["ctr", "-n", "k8s.io", "images", "tag", "--force", "localhost/myapp:dev", "docker.io/library/myapp:dev"]);
    }
  });

  it("on Docker, whose archive keeps the name asked for, nothing is named after the import", async () => {
    const d = await twoNodeCluster();
    d.images.add("myapp:dev");
    await loadImages(d, "c1", { images: ["myapp:dev"], archives: [] });
    expect(d.execs.filter((e) => e.cmd.includes("tag"))).toEqual([]);
    expect(d.execs.filter((e) => e.cmd.includes("import"))).toHaveLength(2);
  });

  it("a name the node's containerd refuses fails the load with the node and ctr's words", async () => {
    const d = await twoNodeCluster();
    d.images.add("myapp:dev");
    d.images.archiveName = (ref) => `localhost/${ref}`;
    d.onExec = (call) => (call.cmd.includes("tag") ? { exitCode: 1, stderr: "ctr: image not found" } : undefined);
    await expect(loadImages(d, "c1", { images: ["myapp:dev"], archives: [] })).rejects.toThrow(
      /naming localhost\/myapp:dev docker\.io\/library\/myapp:dev in c1-(control-plane|worker) failed: ctr: image not found/,
    );
  });
});
