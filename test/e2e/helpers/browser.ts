import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** Debian's chromium (scripts/setup.sh installs it); Playwright downloads no browser of its own. */
export const CHROMIUM = "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** Every request Chromium tried that was not to 127.0.0.1 (each was refused). */
  refused: string[];
  close: () => Promise<void>;
}

/**
 * Headless Chromium with a fresh profile that reaches nothing but 127.0.0.1: no host name resolves,
 * every background service is off, and any request to another host is aborted and recorded.
 */
export async function launchLoopbackBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), "kubeyard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
  const refused: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === "http:" || url.protocol === "https:") && url.hostname === "127.0.0.1") return route.continue();
    if (url.protocol === "data:" || url.protocol === "about:") return route.continue();
    refused.push(url.href);
    return route.abort("blockedbyclient");
  });
  return {
    context,
    refused,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
