/**
 * A cluster's objects as etcd holds them, in the form of etcd's JSON API (keys and values base64),
 * and the one transaction that turns a running cluster's objects into a snapshot's.
 *
 * The state is every key under /registry/ but the records of live processes: coordination Leases
 * (leader election, node heartbeats, API server identities) and keys bound to an etcd lease (Events,
 * the API servers' endpoint leases). Those describe the processes running now; putting back their
 * saved values would make the running controllers lose their leadership, and they expire by design.
 */
export interface EtcdKv {
  key: string;
  value?: string;
  /** An etcd lease ID ("0" or absent: none). */
  lease?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
/** The key after every key that starts with `prefix` (etcd's range_end for a prefix). */
const prefixEnd = (prefix: string) => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

const REGISTRY = "/registry/";
/** Prefixes whose keys are records of live processes, never part of the state (see above). */
const LIVE_RECORDS = ["/registry/events/", "/registry/leases/", "/registry/masterleases/"];

/** The range request for every key under /registry/, as etcd's JSON API takes it. */
export const REGISTRY_RANGE = { key: b64(REGISTRY), range_end: b64(prefixEnd(REGISTRY)) };

const isState = (kv: EtcdKv) => {
  if (kv.lease && kv.lease !== "0") return false;
  const key = Buffer.from(kv.key, "base64").toString("latin1");
  return key.startsWith(REGISTRY) && !LIVE_RECORDS.some((p) => key.startsWith(p));
};

/** The state keys among a range's, as key → value (both base64). */
export function stateKeys(kvs: readonly EtcdKv[]): Map<string, string> {
  return new Map(kvs.filter(isState).map((kv) => [kv.key, kv.value ?? ""]));
}

/** The parts of /registry/ outside LIVE_RECORDS: the ranges a replay's compare guards. */
function stateRanges(): { key: string; range_end: string }[] {
  const bounds = [REGISTRY, ...LIVE_RECORDS.flatMap((p) => [p, prefixEnd(p)]), prefixEnd(REGISTRY)];
  const ranges: { key: string; range_end: string }[] = [];
  for (let i = 0; i < bounds.length; i += 2) ranges.push({ key: b64(bounds[i]!), range_end: b64(bounds[i + 1]!) });
  return ranges;
}

export interface ReplayTxn {
  compare: object[];
  success: object[];
  /** How many keys the transaction writes and removes. */
  puts: number;
  deletes: number;
}

/**
 * One etcd transaction that gives the live cluster the saved state: puts each saved key whose value
 * differs, removes each live key the snapshot lacks. It applies only if no state key changed since
 * `revision` (the live range's), so nothing written meanwhile is lost to a stale diff: etcd answers
 * `succeeded: false` and the caller reads again.
 */
export function replayTxn(saved: Map<string, string>, live: Map<string, string>, revision: string): ReplayTxn {
  const success: object[] = [];
  let puts = 0;
  let deletes = 0;
  for (const [key, value] of saved) {
    if (live.get(key) === value) continue;
    success.push({ request_put: { key, value } });
    puts++;
  }
  for (const key of live.keys()) {
    if (saved.has(key)) continue;
    success.push({ request_delete_range: { key } });
    deletes++;
  }
  const next = String(BigInt(revision) + 1n);
  const compare = stateRanges().map((r) => ({ ...r, target: "MOD", result: "LESS", mod_revision: next }));
  return { compare, success, puts, deletes };
}

/**
 * The saved state with the keys `own` names taken from the live cluster instead: the live value where
 * the live cluster has the key, none where it has not. A copy keeps so what names its own nodes and
 * addresses (see snapshot-copy's ownKeys), and a transaction of that leaves them as they are.
 */
export function withLiveKeys(saved: Map<string, string>, live: Map<string, string>, own: (key: string) => boolean): Map<string, string> {
  const isOwn = (k: string) => own(Buffer.from(k, "base64").toString("latin1"));
  const out = new Map([...saved].filter(([k]) => !isOwn(k)));
  for (const [k, v] of live) if (isOwn(k)) out.set(k, v);
  return out;
}
