import type { Command } from "commander";
import { getAddon } from "../../src/addons/index.js";
import { askAddonValues } from "../ui/prompt.js";
import { enableWithProgress } from "./addons-enable.js";

export default async function addonsConfigure(program: Command, name: string, opts: { set?: Record<string, string> }): Promise<void> {
  const addon = await getAddon(name);
  let set = opts.set ?? {};
  if (!Object.keys(set).length) set = await askAddonValues(addon);
  await enableWithProgress(program, name, set, "auto");
}
