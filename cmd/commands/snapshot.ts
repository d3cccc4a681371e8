import type { Command } from "commander";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";

export function registerSnapshot(program: Command): void {
  const snapshot = program
    .command("snapshot")
    .description("save a whole cluster (objects, volumes, images, certificates) and get it back in seconds");

  snapshot
    .command("save <name>")
    .description("save the cluster (-p) as it is now; its nodes pause while etcd's data and the volumes are copied")
    .action(lazy(() => import("../actions/snapshot-save.js")));

  snapshot
    .command("restore <name>")
    .description("return the snapshot's cluster to the saved state (made again if it was deleted)")
    .option("--no-kubeconfig", "do not add a context to your kubeconfig when the cluster is made again")
    .action(lazy(() => import("../actions/snapshot-restore.js")));

  snapshot
    .command("list")
    .description("show the snapshots: cluster, Kubernetes version, nodes, addons, size, date")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/snapshot-list.js")));

  snapshot
    .command("rm <name>")
    .description("remove a snapshot")
    .action(lazy(() => import("../actions/snapshot-rm.js")));

  snapshot
    .command("export <name> <file>")
    .description("write a snapshot as one file, to hand to a colleague or keep in a CI cache")
    .action(lazy(() => import("../actions/snapshot-export.js")));

  snapshot
    .command("import <file>")
    .description("add a snapshot from a file `snapshot export` wrote (checked before anything changes)")
    .action(lazy(() => import("../actions/snapshot-import.js")));
}
