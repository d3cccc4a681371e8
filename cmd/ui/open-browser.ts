import { spawn } from "node:child_process";

/** How long the opener may take to fail before kubeyard leaves it running (some stay with the browser). */
const OPENER_GRACE_MS = 2_000;

/**
 * Opens a URL with the desktop's opener (open on macOS, explorer on Windows, xdg-open elsewhere). When
 * there is no desktop, no opener, or the opener fails, it says so on stderr and which URL to open.
 */
export async function openBrowser(url: string): Promise<void> {
  const say = (text: string) => process.stderr.write(`${text}\n`);
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    say(`no desktop to open a browser on (DISPLAY is unset); open ${url} yourself`);
    return;
  }
  const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
  const outcome = await new Promise<"missing" | "failed" | "opened">((resolve) => {
    const timer = setTimeout(() => resolve("opened"), OPENER_GRACE_MS);
    const settle = (result: "missing" | "failed" | "opened") => {
      clearTimeout(timer);
      resolve(result);
    };
    child.once("error", (err: NodeJS.ErrnoException) => settle(err.code === "ENOENT" ? "missing" : "failed"));
    child.once("exit", (code) => settle(code === 0 ? "opened" : "failed"));
  });
  // The browser (or an opener that waits for it) outlives kubeyard.
  child.unref();
  if (outcome === "missing") say(`no browser to open here (${opener} is not installed); open ${url} yourself`);
  if (outcome === "failed") say(`could not run ${opener} to open ${url}; open it yourself`);
}
