import yaml from "js-yaml";
import { featureGatesFlag, renderArgs, type Flags } from "./args.js";
import { pathsOf } from "./paths.js";
import { needsLeaderElection } from "./control-plane-member.js";
import type { ComponentContext } from "./types.js";

/**
 * The KubeSchedulerConfiguration file: the scheduler's --kubeconfig and --profiling flags are
 * deprecated (and ignored once --config is given), so the connection, leader election and
 * profiling are set here. The scheduler's config has no feature gates; those stay a flag.
 */
export function kubeSchedulerConfig(ctx: ComponentContext): string {
  const paths = pathsOf(ctx);
  const config = {
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig: paths.kubeconfig("scheduler") },
    leaderElection: { leaderElect: needsLeaderElection(ctx) },
    enableProfiling: false,
  };
  return yaml.dump(config, { lineWidth: -1 });
}

/** kube-scheduler's flags: its config file, and the same identity for delegated authn/authz. */
export function kubeSchedulerArgs(ctx: ComponentContext): string[] {
  const paths = pathsOf(ctx);
  const kubeconfig = paths.kubeconfig("scheduler");
  const flags: Flags = [
    ["config", paths.schedulerConfig],
    ["authentication-kubeconfig", kubeconfig],
    ["authorization-kubeconfig", kubeconfig],
    ["bind-address", "127.0.0.1"],
    ...featureGatesFlag(ctx.cluster.featureGates),
  ];
  return renderArgs("kube-scheduler", flags, ctx.cluster.extraArgs["kube-scheduler"]);
}
