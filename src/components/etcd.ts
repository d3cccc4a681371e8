import { pkiPaths } from "../pki/layout.js";
import { hostPort, httpsURL, renderArgs, type Flags } from "./args.js";
import { thisMember } from "./control-plane-member.js";
import { pathsOf, portsOf } from "./paths.js";
import type { ComponentContext } from "./types.js";

/**
 * etcd's backend quota: 8 GiB, the largest size etcd recommends. It is a ceiling, not an
 * allocation, and the 2 GiB default is reachable by a busy dev cluster's events, after which etcd
 * turns read-only until someone defragments it.
 */
export const ETCD_QUOTA_BACKEND_BYTES = 8 * 1024 ** 3;

export const ETCD_MAX_TXN_OPS = 100_000;
export const ETCD_MAX_REQUEST_BYTES = 32 * 1024 ** 2;

/**
 * etcd's flags for a stacked member on a control-plane node. Clients (the API server, probes) and
 * peers must present certificates from the etcd CA. Only flags that etcd 3.6 and 3.7 both accept
 * are used: 3.6 deprecated the --experimental-* flags and 3.7 removed them, so the initial
 * corruption check is the InitialCorruptCheck feature gate and the watch progress interval has its
 * plain name. Kubernetes feature gates are not etcd's and are not passed on.
 */
export function etcdArgs(ctx: ComponentContext): string[] {
  const me = thisMember(ctx);
  const ports = portsOf(ctx);
  const paths = pathsOf(ctx);
  const server = paths.pkiPair(pkiPaths.etcdServer(me.name));
  const peer = paths.pkiPair(pkiPaths.etcdPeer(me.name));
  const etcdCa = paths.pki(pkiPaths.etcdCa.cert);
  const clientListen = [...new Set(["127.0.0.1", me.ip])].map((ip) => httpsURL(ip, ports.etcdClient));
  const initialCluster = ctx.controlPlanes.map((m) => `${m.name}=${httpsURL(m.ip, ports.etcdPeer)}`);

  const flags: Flags = [
    ["name", me.name],
    ["data-dir", paths.layout.etcdDataDir],
    ["listen-client-urls", clientListen.join(",")],
    ["advertise-client-urls", httpsURL(me.ip, ports.etcdClient)],
    ["listen-peer-urls", httpsURL(me.ip, ports.etcdPeer)],
    ["initial-advertise-peer-urls", httpsURL(me.ip, ports.etcdPeer)],
    ["initial-cluster", initialCluster.join(",")],
    ["initial-cluster-state", ctx.etcdInitialClusterState ?? "new"],
    // Keeps members of two clusters that share a network from ever joining each other.
    ["initial-cluster-token", `kubeyard-${ctx.cluster.name}`],
    ["listen-metrics-urls", `http://${hostPort("127.0.0.1", ports.etcdMetrics)}`],
    ["cert-file", server.cert],
    ["key-file", server.key],
    ["client-cert-auth", "true"],
    ["trusted-ca-file", etcdCa],
    ["peer-cert-file", peer.cert],
    ["peer-key-file", peer.key],
    ["peer-client-cert-auth", "true"],
    ["peer-trusted-ca-file", etcdCa],
    ["snapshot-count", "10000"],
    ["quota-backend-bytes", String(ETCD_QUOTA_BACKEND_BYTES)],
    // A snapshot restore writes a cluster's objects in one transaction (src/snapshot/replay.ts): far
    // more operations and bytes than the defaults (128, 1.5 MiB) that suit the API server's writes.
    ["max-txn-ops", String(ETCD_MAX_TXN_OPS)],
    ["max-request-bytes", String(ETCD_MAX_REQUEST_BYTES)],
    // The API server's watch cache relies on progress notifications to serve consistent lists.
    ["watch-progress-notify-interval", "5s"],
    ["feature-gates", "InitialCorruptCheck=true"],
  ];
  return renderArgs("etcd", flags, ctx.cluster.extraArgs.etcd);
}
