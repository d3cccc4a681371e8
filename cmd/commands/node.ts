import type { Command } from "commander";
import { UserError } from "../../src/util/errors.js";
import { parseOutput, printJson, printTable } from "../ui/print.js";
import { runSteps } from "../ui/tasks.js";
import { driverFor, globals } from "./common.js";

export function registerNode(program: Command): void {
  const node = program.command("node").description("add, delete and list the nodes of a running cluster");

  node
    .command("add")
    .description("add a node to the running cluster (a worker unless --role says otherwise)")
    .option("--role <role>", "worker or control-plane", "worker")
    .action(async (opts: { role: string }) => {
      const { ADDABLE_ROLES, addNode } = await import("../../src/ops/node.js");
      const role = opts.role.trim();
      const known = ADDABLE_ROLES.find((r) => r === role);
      if (!known) throw new UserError(`--role: "${opts.role}" is not a role a node can be added with.`, `Use one of: ${ADDABLE_ROLES.join(", ")}.`);
      const { clusterDeps } = await import("../../src/ops/deps.js");
      const { watchInterrupt } = await import("../../src/ops/interrupt.js");
      const { stepRunner } = await import("../ui/tasks.js");
      const g = globals(program);
      const driver = await driverFor(program);
      const interrupt = watchInterrupt(() => "stopping after the current step, then removing the new node (again to quit at once)");
      try {
        const deps = clusterDeps(driver, {
          source: "auto",
          kubeconfigPath: null,
          signal: interrupt.signal,
          log: (m) => g.verbose && process.stderr.write(`  ${m}\n`),
        });
        const added = await addNode(g.profile, known, deps, {
          runner: stepRunner({ verbose: g.verbose, signal: interrupt.signal }),
          interrupt,
          warn: (text) => process.stderr.write(`${text}\n`),
        });
        process.stdout.write(`node ${added} joined cluster "${g.profile}" and is Ready\n`);
      } finally {
        interrupt.dispose();
      }
    });

  node
    .command("delete")
    .description("drain a node, then remove it from the cluster")
    .argument("<name>", "the node, as `kubeyard node list` names it")
    .action(async (name: string) => {
      const { deleteNode } = await import("../../src/ops/node.js");
      const g = globals(program);
      const driver = await driverFor(program);
      await runSteps([{ title: `drain and remove ${name}`, run: async () => deleteNode(g.profile, name, { driver }) }], { verbose: g.verbose });
      process.stdout.write(`node ${name} was drained and removed from cluster "${g.profile}"\n`);
    });

  node
    .command("list")
    .description("the cluster's nodes: role, container state, address, pod range")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const { listClusterNodes } = await import("../../src/day2/nodes.js");
      const driver = await driverFor(program);
      const rows = await listClusterNodes(driver, globals(program).profile);
      if (opts.output === "json") return printJson(rows);
      printTable(["NAME", "ROLE", "CONTAINER", "IP", "POD CIDR"], rows.map((r) => [r.name, r.role, r.container, r.ip, r.podCIDR]));
    });
}
