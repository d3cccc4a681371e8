import type { Command } from "commander";
import { lazy } from "../lazy.js";

export function registerDashboard(program: Command): void {
  let parsePort: ((value: string) => number) | undefined;
  const command = program
    .command("dashboard")
    .description("reach the dashboard addon's web UI on 127.0.0.1 and print its URL; stays in the foreground until Ctrl-C")
    .option("--url", "print only the URL (for scripts)", false)
    .option("--port <port>", "the local port (default: a free one)", (value) => parsePort!(value))
    .option("--open", "also open the URL in this machine's browser, when it has one", false)
    .action(lazy(() => import("../actions/dashboard.js")));

  // Commander checks --port while it parses, so the parser must be at hand by then; it lives beside
  // the dashboard's client code, which takes over a second to load. Loading it once `dashboard` is
  // chosen but before its options are parsed keeps that cost off every other command and keeps
  // the order in which errors are reported.
  program.hook("preSubcommand", async (_program, sub) => {
    if (sub === command) ({ parseDashboardPort: parsePort } = await import("../../src/day2/dashboard.js"));
  });
}
