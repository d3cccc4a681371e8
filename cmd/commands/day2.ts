import type { Command } from "commander";
import { lazy } from "../lazy.js";

/** Commands for a cluster that runs: logs, ssh, cp, kubectl, pause and unpause. */
export function registerDay2(program: Command): void {
  program
    .command("logs")
    .description(
      "collect every component's logs, node and cluster info into a directory or FILE.tar.gz, for a bug report (no key material)",
    )
    .option("--output <path>", "a new (or empty) directory, or a FILE.tar.gz (default: ./kubeyard-logs-PROFILE-TIME.tar.gz)")
    .action(lazy(() => import("../actions/logs.js")));

  program
    .command("ssh")
    .description(
      "a shell in a node (the first control plane unless NODE is given), or run a command there: kubeyard ssh [NODE] -- CMD ARGS...",
    )
    .argument("[node-and-command...]", "NODE, then `--` and the command")
    .allowUnknownOption()
    .action(lazy(() => import("../actions/ssh.js")));

  program
    .command("cp")
    .description(
      "copy a file or folder from the host into a node, or from a node to the host: kubeyard cp SRC NODE:/PATH, kubeyard cp NODE:/PATH DST",
    )
    .argument("<src>", "a host path, or NODE:/PATH (NODE as `kubeyard node list` shows it, with or without the profile)")
    .argument("<dst>", "NODE:/PATH, or a host path")
    .action(lazy(() => import("../actions/cp.js")));

  program
    .command("kubectl")
    .description(
      "run the kubectl of the cluster's version against it (its own kubeconfig; yours is not used or changed): kubeyard kubectl -- ARGS",
    )
    .argument("[args...]", "kubectl's arguments, after `--`")
    .allowUnknownOption()
    .action(lazy(() => import("../actions/kubectl.js")));

  program
    .command("pause")
    .description("freeze every node of the cluster; `unpause` (or `start`) resumes it with its workloads and state")
    .action(lazy(() => import("../actions/pause.js")));

  program
    .command("unpause")
    .description("resume a paused cluster and wait until its API server, nodes and CoreDNS are ready")
    .action(lazy(() => import("../actions/unpause.js")));
}
