import { spawn } from "node:child_process";
import type { Command } from "commander";
import { globals } from "./common.js";

export function registerDashboard(program: Command): void {
  let parsePort: ((value: string) => number) | undefined;
  const command = program
    .command("dashboard")
    .description("reach the dashboard addon's web UI on 127.0.0.1 and print its URL; stays in the foreground until Ctrl-C")
    .option("--url", "print only the URL (for scripts)", false)
    .option("--port <port>", "the local port (default: a free one)", (value) => parsePort!(value))
    .option("--open", "also open the URL in this machine's browser, when it has one", false)
    .action(async (opts: { url: boolean; port?: number; open: boolean }) => {
      const { openDashboard } = await import("../../src/day2/dashboard.js");
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
      if (opts.open) await openBrowser(dashboard.url, say);
      const { untilInterrupted } = await import("../../src/ops/interrupt.js");
      const { done, interrupt } = untilInterrupted("closing the dashboard");
      await done;
      interrupt.dispose();
      await dashboard.close();
    });

  // Commander checks --port while it parses, so the parser must be at hand by then; it lives beside
  // the dashboard's client code, which takes over a second to load. Loading it once `dashboard` is
  // chosen but before its options are parsed keeps that cost off every other command and keeps
  // the order in which errors are reported.
  program.hook("preSubcommand", async (_program, sub) => {
    if (sub === command) ({ parseDashboardPort: parsePort } = await import("../../src/day2/dashboard.js"));
  });
}

/** Opens the URL with the desktop's opener (xdg-open, or open on macOS); says so when there is none. */
async function openBrowser(url: string, say: (text: string) => void): Promise<void> {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const { execa } = await import("execa");
  const found = await execa("sh", ["-c", `command -v ${opener}`], { reject: false });
  if (found.exitCode !== 0 || (process.platform !== "darwin" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)) {
    say(`no browser to open here (${opener} or a display is missing); open ${url} yourself`);
    return;
  }
  spawn(opener, [url], { detached: true, stdio: "ignore" }).unref();
}
