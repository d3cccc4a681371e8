import type { NodeDriver } from "../drivers/types.js";
import { ETCD_CLIENT_TLS } from "./etcdctl.js";
import { UserError } from "../util/errors.js";

/** The control plane's own member, with the health-check client's certificate (as etcdctl.ts uses). */
export const LOCAL_MEMBER = "https://127.0.0.1:2379";

/**
 * POSTs `body` to etcd's JSON API (`/v3/kv/range`, `/v3/kv/txn`, ...) from inside `node`, the way the
 * node's curl reaches it, and returns etcd's answer. Keys and values travel base64, so any bytes pass,
 * and a large request goes in one piece (etcdctl caps what it sends). An `http://` endpoint (a member
 * kubeyard started itself, without TLS) is asked without certificates.
 */
export async function etcdJson<T>(driver: NodeDriver, node: string, call: string, body: object, endpoint = LOCAL_MEMBER): Promise<T> {
  const tls = endpoint.startsWith("https:")
    ? ["--cacert", ETCD_CLIENT_TLS.ca, "--cert", ETCD_CLIENT_TLS.cert, "--key", ETCD_CLIENT_TLS.key]
    : [];
  const r = await driver.exec(node, ["curl", "-sS", "--max-time", "30", ...tls, "--data-binary", "@-", `${endpoint}${call}`], {
    stdin: JSON.stringify(body),
  });
  if (r.exitCode !== 0) throw new UserError(`etcd on ${node} did not answer ${call}: ${r.stderr.trim() || r.stdout.trim()}`);
  let answer: T & { error?: string; message?: string };
  try {
    answer = JSON.parse(r.stdout) as T & { error?: string; message?: string };
  } catch {
    throw new UserError(`etcd on ${node} gave no JSON for ${call}: ${r.stdout.slice(0, 200) || r.stderr.trim()}`);
  }
  if (answer.error || answer.message) throw new UserError(`etcd on ${node} refused ${call}: ${answer.message ?? answer.error}`);
  return answer;
}
