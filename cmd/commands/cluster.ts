import type { Command } from "commander";
// flags.js, not config/index.js: the flag names are needed to define `start`, the validator (ajv, yaml) only when it runs.
import { FLAG_NAMES } from "../../src/config/flags.js";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";
import { addSourceOptions, collect } from "./common.js";

export function registerCluster(program: Command): void {
  addSourceOptions(
    program
      .command("start")
      .description("create and start a cluster, or start a stopped one (a running one is left as it is)")
      .option("--config <file>", "cluster config file (YAML, kubeyard.dev/v1alpha1 Cluster)")
      .option("--kubernetes-version <version>", "Kubernetes version (default: newest supported)")
      .option(`${FLAG_NAMES.nodes} <n>`, "number of nodes, control planes included")
      .option(`${FLAG_NAMES.controlPlanes} <n>`, "how many of the nodes are control planes")
      .option(`${FLAG_NAMES.apiServerPort} <port>`, "host port of the API server (default: a free port)")
      .option(`${FLAG_NAMES.apiServerAddress} <address>`, "host address the API server is published on", undefined)
      .option("--node-image <image>", "run nodes from this image instead of kubeyard's own")
      .option(
        `${FLAG_NAMES.containerRuntime} <runtime>`,
        "the nodes' CRI runtime: containerd (default) or cri-o; fixed when the cluster is created",
      )
      .option("--addons <names>", "addons to enable, comma-separated")
      .option(
        `${FLAG_NAMES.mounts} <HOST_DIR:NODE_DIR[:ro]>`,
        "mount a host folder into every node (repeatable; fixed when the cluster is created)",
        collect,
      )
      .option("--no-kubeconfig", "do not add a context to your kubeconfig")
      .option("--from-snapshot <name>", "a new cluster (-p) with a snapshot's state, beside the snapshot's own cluster")
      .option("--dry-run", "print what start would do, step by step, and change nothing"),
  ).action(lazy(() => import("../actions/start.js")));

  program
    .command("stop")
    .description("stop the cluster's nodes; `start` brings it back with its workloads and data")
    .action(lazy(() => import("../actions/stop.js")));

  program
    .command("delete")
    .description("delete the cluster: nodes, network, volumes, and the kubeconfig entries kubeyard made")
    .option("--all", "delete every cluster of this kubeyard state dir ($KUBEYARD_HOME)", false)
    .option("-y, --yes", "do not ask before deleting with --all", false)
    .action(lazy(() => import("../actions/delete.js")));

  program
    .command("status")
    .description("per node: container, kubelet, API server and etcd health; exits non-zero unless the cluster runs")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/status.js")));

  program
    .command("kubeconfig")
    .description("print the cluster's kubeconfig (admin credentials)")
    .action(lazy(() => import("../actions/kubeconfig.js")));

  program
    .command("doctor")
    .description("check whether this host can run clusters (engine, cgroups, limits, a free network), creating nothing")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/doctor.js")));

  const profile = program.command("profile").description("the clusters (profiles) kubeyard manages");
  profile
    .command("list")
    .description("list every cluster with its state")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/profile-list.js")));
}
