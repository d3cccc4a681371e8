import { execa, type ResultPromise } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { launchLoopbackBrowser, type Browser } from "./helpers/browser.js";
import { KUBEYARD_CLI, type TestUser } from "./helpers/cli.js";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { freePort } from "./helpers/free-port.js";
import { kubectlOk } from "./helpers/kubectl.js";

/*
 * The dashboard addon: enabled with `addons enable` (its image is built on the host when missing),
 * reached from the host with `kubeyard dashboard --url`, and proven in headless Chromium that its
 * page lists the cluster's namespaces, that it cannot read Secrets, and that `addons disable` removes it.
 */

const NS = `dash-${Math.random().toString(36).slice(2, 8)}`;
const SECRET = `dash-secret-${Math.random().toString(36).slice(2, 8)}`;
const SA = "system:serviceaccount:kube-system:dashboard";
const { user, profile } = clusterForFile("e2e-dash", { namespaces: [NS] });

/** `kubeyard dashboard --url` running in the background, and the URL it printed. */
interface Running {
  url: string;
  child: ResultPromise;
  output: () => string;
}

async function startDashboard(u: TestUser, args: string[]): Promise<Running> {
  const child = execa("node", [KUBEYARD_CLI, "-p", profile, "dashboard", ...args], { env: u.env, reject: false, buffer: false });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubeyard dashboard printed no URL within 180 s:\n${out}`)), 180_000);
    const check = () => {
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout?.on("data", check);
    void child.then((r) => {
      clearTimeout(timer);
      reject(new Error(`kubeyard dashboard exited (${r.exitCode}) before printing a URL:\n${out}`));
    });
  });
  return { url, child, output: () => out };
}

let browser: Browser | undefined;
let dashboard: Running | undefined;
afterAll(async () => {
  await browser?.close();
  if (dashboard && dashboard.child.exitCode === null && dashboard.child.signalCode === null) {
    dashboard.child.kill("SIGINT");
    await dashboard.child;
  }
});

describe("the dashboard addon", () => {
  it("refuses a bad --port before anything else, and says the addon is not enabled yet", async () => {
    const bad = await user.kubeyard(["-p", profile, "dashboard", "--port", "70000"]);
    expect(bad.exitCode).not.toBe(0);
    expect(String(bad.stderr)).toContain('--port: got "70000", want a port number from 1 to 65535');
    const off = await user.kubeyard(["-p", profile, "dashboard", "--url"]);
    expect(off.exitCode).not.toBe(0);
    expect(String(off.stderr)).toContain(`the dashboard addon is not enabled on cluster "${profile}"`);
    expect(String(off.stderr)).toContain("addons enable dashboard");
  });

  it("is enabled by addons enable and listed as enabled", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "enable", "dashboard"], { timeout: 900_000 });
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout)).toContain("kubeyard dashboard");
    const rows = JSON.parse(String((await user.kubeyard(["-p", profile, "addons", "list", "-o", "json"])).stdout)) as {
      name: string;
      enabled: boolean;
    }[];
    expect(rows.find((x) => x.name === "dashboard")?.enabled).toBe(true);
    const image = await kubectlOk(
      user,
      "-n",
      "kube-system",
      "get",
      "deployment",
      "dashboard",
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    );
    expect(image).toBe("localhost/kubeyard/kube-web-view:21.2.0");
  }, 960_000);

  it("kubeyard dashboard --url serves a page on 127.0.0.1 that, in Chromium, lists the cluster's namespaces", async () => {
    const port = await freePort();
    dashboard = await startDashboard(user, ["--url", "--port", String(port)]);
    expect(dashboard.url).toBe(`http://127.0.0.1:${port}/`);
    browser = await launchLoopbackBrowser();
    const page = await browser.context.newPage();
    const res = await page.goto(`${dashboard.url}clusters/local/namespaces`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toContain("Kubernetes Web View");
    for (const ns of [NS, "default", "kube-system"]) {
      await expect.poll(() => page.getByRole("link", { name: ns, exact: true }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    }
    // A namespace made now shows up on the next load: the page reads the cluster, not a snapshot.
    const later = `${NS}-later`;
    await kubectlOk(user, "create", "namespace", later);
    await eventually(
      `${later} to be listed on the dashboard`,
      async () => {
        await page.reload();
        if ((await page.getByRole("link", { name: later, exact: true }).count()) === 0) throw new Error(`${later} not listed yet`);
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
    await kubectlOk(user, "delete", "namespace", later, "--wait=false");
    expect(browser.refused).toEqual([]);
  }, 300_000);

  it("cannot read Secrets: its page for them is refused, and its ServiceAccount may not list them", async () => {
    await kubectlOk(user, "-n", NS, "create", "secret", "generic", SECRET, "--from-literal=password=hunter2");
    const page = await browser!.context.newPage();
    const res = await page.goto(`${dashboard!.url}clusters/local/namespaces/${NS}/secrets`);
    expect(res?.status()).toBe(403);
    expect(await page.title()).toContain("Forbidden");
    const text = (await page.textContent("body")) ?? "";
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("hunter2");
    const canSecrets = await user.kubectl(["auth", "can-i", "list", "secrets", "-n", NS, `--as=${SA}`]);
    expect(String(canSecrets.stdout).trim()).toBe("no");
    const canNamespaces = await user.kubectl(["auth", "can-i", "list", "namespaces", `--as=${SA}`]);
    expect(String(canNamespaces.stdout).trim()).toBe("yes");
    const canWrite = await user.kubectl(["auth", "can-i", "create", "deployments", "-n", NS, `--as=${SA}`]);
    expect(String(canWrite.stdout).trim()).toBe("no");
    expect(browser!.refused).toEqual([]);
  }, 120_000);

  it("stops on Ctrl-C and frees its port", async () => {
    const port = Number(new URL(dashboard!.url).port);
    dashboard!.child.kill("SIGINT");
    const r = await dashboard!.child;
    expect(r.exitCode, dashboard!.output()).toBe(0);
    // The port is free again: something else can listen on it.
    const net = await import("node:net");
    await new Promise<void>((resolve, reject) => {
      const srv = net.createServer().once("error", reject);
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve()));
    });
  }, 60_000);

  it("is removed by addons disable, with nothing else touched", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "disable", "dashboard"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    const left = await kubectlOk(
      user,
      "get",
      "deployments,services,serviceaccounts,clusterrolebindings",
      "-A",
      "-l",
      "kubeyard.dev/addon=dashboard",
      "-o",
      "name",
    );
    expect(left.trim()).toBe("");
    expect(await kubectlOk(user, "-n", "kube-system", "get", "deployments", "-o", "name")).toContain("coredns");
    expect(await kubectlOk(user, "-n", NS, "get", "secret", SECRET, "-o", "name")).toContain(SECRET);
    // The authorizer sees the binding gone once its informer has caught up.
    await eventually(
      "the dashboard's ServiceAccount to lose its right to list namespaces",
      async () => {
        const can = await user.kubectl(["auth", "can-i", "list", "namespaces", `--as=${SA}`]);
        if (String(can.stdout).trim() !== "no") throw new Error(`the ServiceAccount may still list namespaces: ${String(can.all)}`);
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const off = await user.kubeyard(["-p", profile, "dashboard", "--url"]);
    expect(off.exitCode).not.toBe(0);
    expect(String(off.stderr)).toContain("the dashboard addon is not enabled");
  }, 300_000);
});
