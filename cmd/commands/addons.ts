import type { Command } from "commander";
import type { Addon } from "../../src/addons/index.js";
import { UserError } from "../../src/util/errors.js";
import { parseOutput, printJson, printTable } from "../ui/print.js";
import { runSteps } from "../ui/tasks.js";
import { addSourceOptions, engineDriver, globals, sourceOf } from "./common.js";

/** `--set a=1 --set b=x` (repeatable) into a map; a missing `=` is the user's error. */
function collectSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf("=");
  if (i <= 0) throw new UserError(`--set takes key=value, not "${value}"`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

export function registerAddons(program: Command): void {
  const addons = program.command("addons").description("optional cluster features: ingress, metrics-server, registry, ...");

  addons
    .command("list")
    .description("every addon, whether it is enabled on this cluster, and what it is for")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const { addonRows } = await import("../../src/addons/manager.js");
      const rows = await addonRows(globals(program).profile);
      if (opts.output === "json") return printJson(rows);
      printTable(["ADDON", "ENABLED", "DESCRIPTION"], rows.map((r) => [r.name, r.enabled ? "yes" : "no", r.description]));
    });

  addSourceOptions(
    addons
      .command("enable")
      .description("install an addon and wait until it works")
      .argument("<name>", "the addon (see `kubeyard addons list`)")
      .option("--set <key=value>", "an addon value (repeatable)", collectSet),
  ).action(async (name: string, opts: { set?: Record<string, string>; source?: string; artifacts?: string }) => {
    await enableWithProgress(program, name, opts.set ?? {}, sourceOf(opts));
  });

  addons
    .command("disable")
    .description("remove every object the addon created, and nothing else")
    .argument("<name>", "the addon")
    .action(async (name: string) => {
      const { disableAddonOf } = await import("../../src/ops/addons.js");
      const profile = globals(program).profile;
      const { kept } = await disableAddonOf(profile, name, await engineDriver());
      process.stdout.write(`addon ${name} is disabled\n`);
      for (const k of kept) {
        process.stdout.write(`kept ${k.ref.kind} ${k.ref.name}: ${k.usedBy} object(s) of it remain that the addon did not create\n`);
      }
    });

  addons
    .command("configure")
    .description("set an addon's values (asks on a terminal; --set without one) and apply them")
    .argument("<name>", "the addon")
    .option("--set <key=value>", "an addon value (repeatable)", collectSet)
    .action(async (name: string, opts: { set?: Record<string, string> }) => {
      const { getAddon } = await import("../../src/addons/index.js");
      const addon = await getAddon(name);
      let set = opts.set ?? {};
      if (!Object.keys(set).length) set = await askValues(addon);
      await enableWithProgress(program, name, set, "auto");
    });
}

async function enableWithProgress(program: Command, name: string, set: Record<string, string>, source: ReturnType<typeof sourceOf>) {
  const { enableAddonOf } = await import("../../src/ops/addons.js");
  const profile = globals(program).profile;
  const driver = await engineDriver();
  let usage: string | undefined;
  await runSteps(
    [
      {
        title: `addon ${name}`,
        run: async (step) => {
          ({ usage } = await enableAddonOf(profile, name, { driver, set, source, onStep: step }));
        },
      },
    ],
    { verbose: globals(program).verbose },
  );
  process.stdout.write(`addon ${name} is enabled${usage ? `\n${usage.trim()}` : ""}\n`);
}

/** One prompt per value, defaulting to the value's default; without a terminal, --set is the way. */
async function askValues(addon: Addon): Promise<Record<string, string>> {
  const names = Object.keys(addon.values);
  if (!names.length) throw new UserError(`addon ${addon.name} has no values to configure`);
  if (!process.stdin.isTTY) {
    throw new UserError(`cannot ask for ${addon.name}'s values without a terminal`, `Give them with --set, e.g. --set ${names[0]}=...`);
  }
  const { default: inquirer } = await import("inquirer");
  const answers = await inquirer.prompt(
    names.map((n) => ({
      type: "input" as const,
      name: n,
      message: `${n} (${addon.values[n]!.description})`,
      default: String(addon.values[n]!.default),
    })),
  );
  return Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, String(v)]));
}
