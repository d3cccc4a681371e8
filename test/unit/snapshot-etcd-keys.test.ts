import { describe, expect, it } from "vitest";
import { REGISTRY_RANGE, replayTxn, stateKeys, withLiveKeys, type EtcdKv, type ReplayTxn } from "../../src/snapshot/etcd-keys.js";

const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");
const text = (s: string) => Buffer.from(s, "base64").toString("latin1");
/** A transaction's operations as text: "put KEY=VALUE" or "delete KEY". */
const opsOf = (txn: ReplayTxn) =>
  txn.success.map((op) => {
    const o = op as { request_put?: { key: string; value: string }; request_delete_range?: { key: string } };
    return o.request_put ? `put ${text(o.request_put.key)}=${text(o.request_put.value)}` : `delete ${text(o.request_delete_range!.key)}`;
  });
const kv = (key: string, value: string, lease?: string): EtcdKv => ({ key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });

describe("a cluster's state keys in etcd", () => {
  it("are the keys under /registry/ but Leases, Events, endpoint leases and keys bound to an etcd lease", () => {
    const keys = stateKeys([
      kv("/registry/configmaps/default/a", "\x00k8s\x00binary"),
      kv("/registry/leases/kube-system/kube-scheduler", "x"),
      kv("/registry/events/default/a.1", "x"),
      kv("/registry/masterleases/10.0.0.2", "x"),
      kv("/registry/pods/default/p", "x", "694d77aa2c1d5a0b"),
      kv("/registry/pods/default/q", "y", "0"),
      kv("compact_rev_key", "x"),
    ]);
    expect([...keys.keys()].map(text).sort()).toEqual(["/registry/configmaps/default/a", "/registry/pods/default/q"]);
    expect(text(keys.get(b64("/registry/configmaps/default/a"))!)).toBe("\x00k8s\x00binary");
  });

  it("ranges over exactly the /registry/ prefix", () => {
    expect(text(REGISTRY_RANGE.key)).toBe("/registry/");
    expect(text(REGISTRY_RANGE.range_end)).toBe("/registry0");
  });
});

describe("the restore transaction", () => {
  const saved = stateKeys([kv("/registry/a/1", "old"), kv("/registry/a/2", "same"), kv("/registry/a/3", "gone since")]);
  const live = stateKeys([kv("/registry/a/1", "new"), kv("/registry/a/2", "same"), kv("/registry/a/4", "made since")]);

  it("writes what changed or went, removes what came, and leaves equal keys alone", () => {
    const txn = replayTxn(saved, live, "41");
    const ops = opsOf(txn);
    expect(ops.sort()).toEqual(["delete /registry/a/4", "put /registry/a/1=old", "put /registry/a/3=gone since"]);
    expect([txn.puts, txn.deletes]).toEqual([2, 1]);
  });

  it("applies only while no state key changed after the revision read, whatever the live records do", () => {
    const { compare } = replayTxn(saved, live, "41") as { compare: { key: string; range_end: string; mod_revision: string }[] };
    expect(new Set(compare.map((c) => c.mod_revision))).toEqual(new Set(["42"]));
    const guarded = (key: string) => compare.some((c) => text(c.key) <= key && key < text(c.range_end));
    expect(guarded("/registry/")).toBe(true);
    expect(guarded("/registry/pods/default/p")).toBe(true);
    expect(guarded("/registry/masterleases0")).toBe(true);
    expect(guarded("/registry/zz")).toBe(true);
    expect(guarded("/registry/leases/kube-system/kube-scheduler")).toBe(false);
    expect(guarded("/registry/events/default/a.1")).toBe(false);
    expect(guarded("/registry/masterleases/10.0.0.2")).toBe(false);
    expect(guarded("/registry0")).toBe(false);
  });

  it("is empty when the cluster already holds the saved state", () => {
    expect(replayTxn(saved, saved, "7").success).toEqual([]);
  });
});

describe("a copy's transaction", () => {
  it("leaves the keys the copy owns as it made them, and takes every other key from the snapshot", () => {
    const saved = stateKeys([
      kv("/registry/minions/old-node", "saved node"),
      kv("/registry/configmaps/ns/cm", "saved"),
      kv("/registry/own/x", "saved"),
    ]);
    const live = stateKeys([
      kv("/registry/minions/new-node", "live node"),
      kv("/registry/configmaps/ns/cm", "fresh"),
      kv("/registry/own/x", "live"),
    ]);
    const own = (key: string) => key.startsWith("/registry/minions/") || key === "/registry/own/x";
    const txn = replayTxn(withLiveKeys(saved, live, own), live, "9");
    const ops = opsOf(txn);
    expect(ops).toEqual(["put /registry/configmaps/ns/cm=saved"]);
  });
});
