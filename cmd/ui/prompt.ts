import { UserError } from "../../src/util/errors.js";

/** Asks a yes/no question on a terminal; without one it refuses rather than hang or assume. */
export async function confirm(message: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UserError(`${message} — cannot ask without a terminal.`, "Add --yes to confirm.");
  }
  // inquirer takes a quarter of a second to load; only a question on a terminal needs it.
  const { default: inquirer } = await import("inquirer");
  const { ok } = await inquirer.prompt<{ ok: boolean }>([{ type: "confirm", name: "ok", message, default: false }]);
  return ok;
}
