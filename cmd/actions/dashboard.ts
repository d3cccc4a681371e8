import type { Command } from "commander";
import { openDashboard } from "../../src/day2/dashboard.js";
import { untilInterrupted } from "../../src/ops/interrupt.js";
import { openBrowser } from "../ui/open-browser.js";
import { globals } from "./common.js";

export default async function dashboard(program: Command, opts: { url: boolean; port?: number; open: boolean }): Promise<void> {
  const { profile, verbose } = globals(program);
  const say = (text: string) => process.stderr.write(`${text}\n`);
  const dashboard = await openDashboard(profile, {
    port: opts.port ?? 0,
    onError: (m) => say(`dashboard: ${m}`),
    onStatus: verbose ? (s) => say(`waiting: ${s}`) : undefined,
  });
  if (opts.url) {
    process.stdout.write(`${dashboard.url}\n`);
  } else {
    process.stdout.write(
      `The dashboard of cluster "${profile}" is at ${dashboard.url}\n` +
        "It needs no login and only reads (the `view` ClusterRole: every object but Secrets).\n" +
        "Press Ctrl-C to stop.\n",
    );
  }
  if (opts.open) await openBrowser(dashboard.url);
  const { done, interrupt } = untilInterrupted("closing the dashboard");
  await done;
  interrupt.dispose();
  await dashboard.close();
}
