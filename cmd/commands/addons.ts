import type { Command } from "commander";
import { UserError } from "../../src/util/errors.js";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";
import { addSourceOptions } from "./common.js";

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
    .action(lazy(() => import("../actions/addons-list.js")));

  addSourceOptions(
    addons
      .command("enable")
      .description("install an addon and wait until it works")
      .argument("<name>", "the addon (see `kubeyard addons list`)")
      .option("--set <key=value>", "an addon value (repeatable)", collectSet),
  ).action(lazy(() => import("../actions/addons-enable.js")));

  addons
    .command("disable")
    .description("remove every object the addon created, and nothing else")
    .argument("<name>", "the addon")
    .action(lazy(() => import("../actions/addons-disable.js")));

  addons
    .command("configure")
    .description("set an addon's values (asks on a terminal; --set without one) and apply them")
    .argument("<name>", "the addon")
    .option("--set <key=value>", "an addon value (repeatable)", collectSet)
    .action(lazy(() => import("../actions/addons-configure.js")));
}
