import type { Addon } from "../../src/addons/index.js";
import { UserError } from "../../src/util/errors.js";

// inquirer takes a quarter of a second to load; only a question on a terminal needs it.
async function inquirer() {
  return (await import("inquirer")).default;
}

/** Asks a yes/no question on a terminal; without one it refuses rather than hang or assume. */
export async function confirm(message: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UserError(`${message} — cannot ask without a terminal.`, "Add --yes to confirm.");
  }
  const { ok } = await (await inquirer()).prompt<{ ok: boolean }>([{ type: "confirm", name: "ok", message, default: false }]);
  return ok;
}

/** One prompt per value of the addon, defaulting to the value's default; without a terminal, --set is the way. */
export async function askAddonValues(addon: Addon): Promise<Record<string, string>> {
  const names = Object.keys(addon.values);
  if (!names.length) throw new UserError(`addon ${addon.name} has no values to configure`);
  if (!process.stdin.isTTY) {
    throw new UserError(`cannot ask for ${addon.name}'s values without a terminal`, `Give them with --set, e.g. --set ${names[0]}=...`);
  }
  const answers = await (
    await inquirer()
  ).prompt(
    names.map((n) => ({
      type: "input" as const,
      name: n,
      message: `${n} (${addon.values[n]!.description})`,
      default: String(addon.values[n]!.default),
    })),
  );
  return Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, String(v)]));
}
