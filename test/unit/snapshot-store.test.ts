import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as tar from "tar";
import { describe, expect, it } from "vitest";
import { useTempKubeyardHome } from "../helpers/temp-home.js";
import { digestTree } from "../../src/artifacts/tree-digest.js";
import { exportSnapshot, importSnapshot } from "../../src/snapshot/archive.js";
import {
  checkSnapshotName,
  commitSnapshot,
  FORMAT,
  listSnapshots,
  MANIFEST,
  removeSnapshot,
  snapshotDir,
  snapshotsDir,
  stagingDir,
  type SnapshotManifest,
} from "../../src/snapshot/store.js";

const tempRoot = useTempKubeyardHome("kubeyard-snap-");

/** A snapshot made the way a save makes one, with made-up contents. */
async function fakeSnapshot(name: string): Promise<SnapshotManifest> {
  const dir = await stagingDir(name);
  mkdirSync(path.join(dir, "nodes", "c1-control-plane"), { recursive: true });
  writeFileSync(path.join(dir, "nodes", "c1-control-plane", "etcd.tar.gz"), "etcd's data");
  writeFileSync(path.join(dir, "cluster.json"), "{}\n");
  const manifest: SnapshotManifest = {
    format: FORMAT,
    name,
    profile: "c1",
    kubernetesVersion: "1.37.1",
    createdAt: new Date().toISOString(),
    pausedMs: 0,
    nodes: [{ name: "c1-control-plane", role: "control-plane", images: [] }],
    addons: ["coredns"],
    files: await digestTree(dir, [MANIFEST]),
  };
  await commitSnapshot(dir, manifest);
  return manifest;
}

describe("snapshot names", () => {
  it.each(["dev", "before-migration", "v1.2_3"])("accepts %s", (name) => expect(() => checkSnapshotName(name)).not.toThrow());
  it.each(["", "Dev", "-x", "x-", "a/b", "..", ".hidden", "a".repeat(64)])("refuses %j", (name) =>
    expect(() => checkSnapshotName(name)).toThrow(/is not a snapshot name/),
  );
});

describe("the snapshot store", () => {
  it("lists committed snapshots with their size, and never a staging folder", async () => {
    await fakeSnapshot("one");
    await stagingDir("half");
    const list = await listSnapshots();
    expect(list.map((s) => [s.name, s.profile, s.bytes])).toEqual([["one", "c1", "etcd's data".length + 3]]);
  });

  it("refuses a second snapshot of the same name and keeps the first", async () => {
    const first = await fakeSnapshot("one");
    await expect(fakeSnapshot("one")).rejects.toThrow(/a snapshot "one" exists already/);
    expect((await listSnapshots())[0]!.createdAt).toBe(first.createdAt);
  });

  it("removes the staging folders of processes that died", async () => {
    const dead = path.join(snapshotsDir(), ".partial-lost-999999999");
    mkdirSync(dead, { recursive: true });
    await stagingDir("next");
    expect(existsSync(dead)).toBe(false);
  });

  it("round-trips through export and import, and removes", async () => {
    await fakeSnapshot("one");
    const file = path.join(tempRoot(), "one.tar");
    await exportSnapshot("one", file);
    await removeSnapshot("one");
    expect(await listSnapshots()).toEqual([]);
    const imported = await importSnapshot(file);
    expect(imported.name).toBe("one");
    expect((await listSnapshots()).map((s) => s.name)).toEqual(["one"]);
    await expect(importSnapshot(file)).rejects.toThrow(/exists already/);
  });

  it("refuses a damaged file before anything changes", async () => {
    await fakeSnapshot("one");
    writeFileSync(path.join(snapshotDir("one"), "nodes", "c1-control-plane", "etcd.tar.gz"), "other data!");
    const file = path.join(tempRoot(), "bad.tar");
    await tar.c({ file, cwd: snapshotsDir() }, ["one"]);
    await removeSnapshot("one");
    await expect(importSnapshot(file)).rejects.toThrow(/is damaged: nodes\/c1-control-plane\/etcd.tar.gz does not match its checksum/);
    expect(readdirSync(snapshotsDir())).toEqual([]);
    writeFileSync(path.join(tempRoot(), "junk.tar"), "not a tar at all");
    await expect(importSnapshot(path.join(tempRoot(), "junk.tar"))).rejects.toThrow(/is not a kubeyard snapshot/);
    expect(readdirSync(snapshotsDir())).toEqual([]);
  });

  it("exports only a snapshot whose files are intact", async () => {
    await fakeSnapshot("one");
    rmSync(path.join(snapshotDir("one"), "cluster.json"));
    await expect(exportSnapshot("one", path.join(tempRoot(), "x.tar"))).rejects.toThrow(/cluster.json is missing/);
    expect(existsSync(path.join(tempRoot(), "x.tar"))).toBe(false);
  });
});
