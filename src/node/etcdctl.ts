import type { NodeDriver } from "../drivers/types.js";
import { pkiPaths } from "../pki/layout.js";
import { UserError } from "../util/errors.js";

export interface EtcdMember {
  /** Hex member id, as `member remove` takes it. */
  id: string;
  /** Empty for a member added but never started. */
  name: string;
  peerURL: string;
  clientURL: string;
}

export interface EtcdHealth {
  member: EtcdMember;
  healthy: boolean;
  /** Why it is not healthy, in etcd's words (one line). */
  reason: string;
}

const pki = (rel: string) => `/etc/kubernetes/pki/${rel}`;

/** In a control plane, the etcd CA and the health-check client's pair that kubeyard asks etcd with. */
export const ETCD_CLIENT_TLS = {
  ca: pki(pkiPaths.etcdCa.cert),
  cert: pki(pkiPaths.etcdHealthcheckClient.cert),
  key: pki(pkiPaths.etcdHealthcheckClient.key),
} as const;

/** How long one etcdctl command may take, in seconds; 5 unless said. */
export interface AskOptions {
  timeoutS?: number;
}

async function run(driver: NodeDriver, node: string, args: string[], opts: AskOptions = {}) {
  return driver.exec(node, [
    "etcdctl",
    "--endpoints=https://127.0.0.1:2379",
    `--cacert=${ETCD_CLIENT_TLS.ca}`,
    `--cert=${ETCD_CLIENT_TLS.cert}`,
    `--key=${ETCD_CLIENT_TLS.key}`,
    `--command-timeout=${opts.timeoutS ?? 5}s`,
    ...args,
  ]);
}

/** Runs etcdctl against the member on `node`; a failure is said in one line, never etcdctl's raw log output. */
export async function etcdctl(driver: NodeDriver, node: string, args: string[], opts: AskOptions = {}): Promise<string> {
  const r = await run(driver, node, args, opts);
  if (r.exitCode !== 0) throw new UserError(`etcdctl ${args.slice(0, 2).join(" ")} failed on ${node}: ${etcdError(r.stderr || r.stdout)}`);
  return r.stdout;
}

/** The "Error: ..." line etcdctl ends with, without the JSON log lines before it. */
export function etcdError(output: string): string {
  const lines = output
    .trim()
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const error = lines.reverse().find((l) => l.startsWith("Error:"));
  if (error) return error.slice("Error:".length).trim();
  const plain = lines.find((l) => !l.startsWith("{"));
  return plain ?? "no answer";
}

/** `member list`: "id, status, name, peer urls, client urls, is learner". */
export async function etcdMembers(driver: NodeDriver, node: string, opts: AskOptions = {}): Promise<EtcdMember[]> {
  const out = await etcdctl(driver, node, ["member", "list"], opts);
  return out
    .split("\n")
    .map((l) => l.split(",").map((f) => f.trim()))
    .filter((f) => f.length >= 5 && f[0])
    .map((f) => ({ id: f[0]!, name: f[2]!, peerURL: f[3]!, clientURL: f[4]! }));
}

/** Every member's health, asked of each member's own endpoint from `node`. */
export async function etcdHealth(driver: NodeDriver, node: string, opts: AskOptions = {}): Promise<EtcdHealth[]> {
  const members = await etcdMembers(driver, node, opts);
  return Promise.all(
    members.map(async (member) => {
      if (!member.clientURL) return { member, healthy: false, reason: "it was added but has not started" };
      const r = await run(driver, node, [`--endpoints=${member.clientURL}`, "endpoint", "health"], opts);
      return { member, healthy: r.exitCode === 0, reason: r.exitCode === 0 ? "" : etcdError(r.stderr || r.stdout) };
    }),
  );
}
