import { pkiPaths } from "../pki/layout.js";
import { featureGatesFlag, renderArgs, type Flags } from "./args.js";
import { clusterCaFile, pathsOf } from "./paths.js";
import { needsLeaderElection } from "./control-plane-member.js";
import type { ComponentContext } from "./types.js";

/** The Lease the controller managers elect their leader with (the flags' default resource name). */
export const CONTROLLER_MANAGER_LEASE = { namespace: "kube-system", name: "kube-controller-manager" } as const;

/**
 * kube-controller-manager's flags. It allocates each node's pod range from the pod subnet, signs
 * kubelet CSRs with the cluster CA, and runs each controller under its own service account so RBAC
 * sees which controller does what. It serves only on the node's loopback.
 */
export function kubeControllerManagerArgs(ctx: ComponentContext): string[] {
  const paths = pathsOf(ctx);
  const { networking } = ctx.cluster;
  const kubeconfig = paths.kubeconfig("controller-manager");
  const ca = paths.pkiPair(pkiPaths.ca);

  const flags: Flags = [
    ["kubeconfig", kubeconfig],
    ["authentication-kubeconfig", kubeconfig],
    ["authorization-kubeconfig", kubeconfig],
    ["bind-address", "127.0.0.1"],
    ["client-ca-file", clusterCaFile(paths)],
    ["requestheader-client-ca-file", paths.pki(pkiPaths.frontProxyCa.cert)],
    ["cluster-name", ctx.cluster.name],
    ["cluster-signing-cert-file", ca.cert],
    ["cluster-signing-key-file", ca.key],
    ["root-ca-file", ca.cert],
    ["service-account-private-key-file", paths.pki(pkiPaths.serviceAccount.key)],
    ["use-service-account-credentials", "true"],
    // The canonical names of kubeadm's bootstrapsigner and tokencleaner (both off by default).
    ["controllers", "*,bootstrap-signer-controller,token-cleaner-controller"],
    ["leader-elect", String(needsLeaderElection(ctx))],
    ["allocate-node-cidrs", "true"],
    ["cluster-cidr", networking.podSubnet],
    ["node-cidr-mask-size", String(networking.nodeCidrMaskSize)],
    ["service-cluster-ip-range", networking.serviceSubnet],
    ["profiling", "false"],
    // Its start makes a client per controller (a service account, a token) and reads discovery through
    // a rate limiter of 20 requests/s: measured here, the controllers then started 8.6 s after the
    // process rather than 3.4 s. One user's cluster has no other clients to be fair to.
    ["kube-api-qps", "100"],
    ["kube-api-burst", "200"],
    ...featureGatesFlag(ctx.cluster.featureGates),
  ];
  return renderArgs("kube-controller-manager", flags, ctx.cluster.extraArgs["kube-controller-manager"]);
}
