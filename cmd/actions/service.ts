import type { Command } from "commander";
import { serviceUrlsOf } from "../../src/ops/tunnel.js";
import { openBrowser } from "../ui/open-browser.js";
import { globals } from "./common.js";

export default async function service(program: Command, name: string, opts: { namespace: string; url: boolean }): Promise<void> {
  const { urls, note } = await serviceUrlsOf(globals(program).profile, opts.namespace, name);
  if (note) process.stderr.write(`${note}\n`);
  for (const u of urls) process.stdout.write(`${u}\n`);
  if (opts.url || !urls[0]?.startsWith("http")) return;
  await openBrowser(urls[0]);
}
