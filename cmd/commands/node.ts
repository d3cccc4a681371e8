import type { Command } from "commander";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";

export function registerNode(program: Command): void {
  const node = program.command("node").description("add, delete and list the nodes of a running cluster");

  node
    .command("add")
    .description("add a node to the running cluster (a worker unless --role says otherwise)")
    .option("--role <role>", "worker or control-plane", "worker")
    .action(lazy(() => import("../actions/node-add.js")));

  node
    .command("delete")
    .description("drain a node, then remove it from the cluster")
    .argument("<name>", "the node, as `kubeyard node list` names it")
    .action(lazy(() => import("../actions/node-delete.js")));

  node
    .command("list")
    .description("the cluster's nodes: role, container state, address, pod range")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/node-list.js")));
}
