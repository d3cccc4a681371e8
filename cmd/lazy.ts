import type { Command } from "commander";

/**
 * The body of a command's action, the default export of a module under cmd/actions/. It gets the root
 * command (for the global options) and the action's operands and options, as commander passes them.
 */
export type ActionBody<A extends unknown[]> = (program: Command, ...args: A) => Promise<void>;

/**
 * A commander action that loads its body when it runs. Defining the commands loads none of src/'s
 * heavier modules (client-node, dockerode, x509, inquirer and execa take a quarter of a second to a
 * second each), so `--help` or `status` do not pay for what `start` needs.
 */
export function lazy<A extends unknown[]>(load: () => Promise<{ default: ActionBody<A> }>): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    // Commander passes the command that runs last; the options and operands come before it.
    let program = args[args.length - 1] as Command;
    while (program.parent) program = program.parent;
    const { default: run } = await load();
    await run(program, ...(args.slice(0, -1) as A));
  };
}
