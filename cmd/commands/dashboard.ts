import { spawn } from "node:child_process";
import type { Command } from "commander";
import { execa } from "execa";
import { openDashboard, parseDashboardPort } from "../../src/cluster/dashboard.js";
import { globals } from "./common.js";

export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description("reach the dashboard addon's web UI on 127.0.0.1 and print its URL; stays in the foreground until Ctrl-C")
    .option("--url", "print only the URL (for scripts)", false)
    .option("--port <port>", "the local port (default: a free one)", parseDashboardPort)
    .option("--open", "also open the URL in this machine's browser, when it has one", false)
    .action(async (opts: { url: boolean; port?: number; open: boolean }) => {
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
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await dashboard.close();
    });
}

/** Opens the URL with the desktop's opener (xdg-open, or open on macOS); says so when there is none. */
async function openBrowser(url: string, say: (text: string) => void): Promise<void> {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const found = await execa("sh", ["-c", `command -v ${opener}`], { reject: false });
  if (found.exitCode !== 0 || (process.platform !== "darwin" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)) {
    say(`no browser to open here (${opener} or a display is missing); open ${url} yourself`);
    return;
  }
  spawn(opener, [url], { detached: true, stdio: "ignore" }).unref();
}
