import type { Command } from "commander";
import type { AddableRole } from "../../src/cluster/nodes.js";
import { UserError } from "../../src/util/errors.js";
import { parseOutput, printJson, printTable } from "../ui/print.js";
import { runSteps } from "../ui/tasks.js";
import { driverFor, globals } from "./common.js";

const ROLES: readonly AddableRole[] = ["worker", "control-plane"];

export function registerNode(program: Command): void {
  const node = program.command("node").description("add, delete and list the nodes of a running cluster");

  node
    .command("add")
    .description("add a node to the running cluster (a worker unless --role says otherwise)")
    .option("--role <role>", "worker or control-plane", "worker")
    .action(async (opts: { role: string }) => {
      const role = opts.role.trim();
      if (!(ROLES as readonly string[]).includes(role)) {
        throw new UserError(`--role: "${opts.role}" is not a role a node can be added with.`, `Use one of: ${ROLES.join(", ")}.`);
      }
      const { prepareNodesForEnabledAddons } = await import("../../src/cluster/addon-manager.js");
      const { addClusterNode } = await import("../../src/cluster/nodes.js");
      const { withProfileLock } = await import("../../src/cluster/state.js");
      const g = globals(program);
      const driver = await driverFor(program);
      await withProfileLock(g.profile, async () => {
        let added = "";
        await runSteps(
          [
            {
              title: `${role} node`,
              run: async (report) => {
                added = await addClusterNode(driver, g.profile, role as AddableRole, {
                  log: report,
                  prepareForAddons: () => prepareNodesForEnabledAddons(g.profile, { driver, onStep: report }),
                });
              },
            },
          ],
          { verbose: g.verbose },
        );
        process.stdout.write(`node ${added} joined cluster "${g.profile}" and is Ready\n`);
      });
    });

  node
    .command("delete")
    .description("drain a node, then remove it from the cluster")
    .argument("<name>", "the node, as `kubeyard node list` names it")
    .action(async (name: string) => {
      const { deleteClusterNode } = await import("../../src/cluster/nodes.js");
      const { withProfileLock } = await import("../../src/cluster/state.js");
      const g = globals(program);
      const driver = await driverFor(program);
      await withProfileLock(g.profile, () =>
        runSteps([{ title: `drain and remove ${name}`, run: async () => deleteClusterNode(driver, g.profile, name) }], { verbose: g.verbose }),
      );
      process.stdout.write(`node ${name} was drained and removed from cluster "${g.profile}"\n`);
    });

  node
    .command("list")
    .description("the cluster's nodes: role, container state, address, pod range")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const { listClusterNodes } = await import("../../src/cluster/nodes.js");
      const driver = await driverFor(program);
      const rows = await listClusterNodes(driver, globals(program).profile);
      if (opts.output === "json") return printJson(rows);
      printTable(["NAME", "ROLE", "CONTAINER", "IP", "POD CIDR"], rows.map((r) => [r.name, r.role, r.container, r.ip, r.podCIDR]));
    });
}
