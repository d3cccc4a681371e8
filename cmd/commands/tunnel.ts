import { Option, type Command } from "commander";
import type { ForwardingChoice } from "../../src/tunnel/forwarding.js";
import type { Node, Service } from "../../src/tunnel/objects.js";
import type { TunnelRow } from "../../src/tunnel/tunnel.js";
import { UserError } from "../../src/util/errors.js";
import { interactiveOutput } from "../ui/tasks.js";
import { engineDriver, globals } from "./common.js";

export function registerTunnel(program: Command): void {
  program
    .command("tunnel")
    .description("give every LoadBalancer Service an address this host reaches, until Ctrl-C")
    .addOption(
      new Option("--mode <mode>", "route: addresses on the cluster's network, forwarded by the nodes (Linux); proxy: loopback addresses this process forwards; auto: route where the host reaches the network")
        .choices(["auto", "route", "proxy"] satisfies ForwardingChoice[])
        .default("auto"),
    )
    .action(async (opts: { mode: ForwardingChoice }) => {
      const { profileClient } = await import("../../src/cluster/api.js");
      const { requireReadyState } = await import("../../src/cluster/state.js");
      const { chooseForwarding } = await import("../../src/tunnel/forwarding.js");
      const { claimTunnel } = await import("../../src/tunnel/lock.js");
      const { formatRows, rowLines } = await import("../../src/tunnel/table.js");
      const { runTunnel } = await import("../../src/tunnel/tunnel.js");
      const profile = globals(program).profile;
      const kc = await profileClient(profile);
      const { forwarding, describe } = await chooseForwarding(await requireReadyState(profile), opts.mode, async () => {
        const driver = await engineDriver();
        return (node, cmd) => driver.exec(node, cmd);
      });
      const { watchInterrupt } = await import("../../src/ops/interrupt.js");
      const claim = await claimTunnel(profile);
      const stop = watchInterrupt(() => "stopping: closing listeners and clearing addresses (Ctrl-C again to quit at once)");
      const live = interactiveOutput();
      let drawn = 0;
      let previous: TunnelRow[] = [];
      try {
        if (claim.leftoverPid) {
          process.stdout.write(`an earlier tunnel (pid ${claim.leftoverPid}) did not stop cleanly; its addresses are taken over or cleared\n`);
        }
        process.stdout.write(`tunnel for cluster "${profile}" is running (${describe}); Ctrl-C stops it\n`);
        await runTunnel(kc, {
          signal: stop.signal,
          forwarding,
          onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
          onRows: (rows) => {
            if (live) {
              const text = formatRows(rows);
              process.stdout.write((drawn ? `\x1b[${drawn}A\x1b[J` : "") + text);
              drawn = text.split("\n").length - 1;
            } else {
              for (const line of rowLines(previous, rows)) process.stdout.write(line + "\n");
            }
            previous = rows;
          },
        });
      } finally {
        await claim.release();
        stop.dispose();
      }
      // Idle keep-alive connections to the API server would keep the process alive for a while.
      process.stdout.write("tunnel stopped: listeners closed, addresses cleared\n", () => process.exit(0));
    });

  program
    .command("service")
    .description("print (or open in a browser) the URL of a NodePort or LoadBalancer Service, like `minikube service`")
    .argument("<name>", "the Service")
    .option("-n, --namespace <namespace>", "its namespace", "default")
    .option("--url", "only print the URLs, one a line", false)
    .action(async (name: string, opts: { namespace: string; url: boolean }) => {
      const { profileClient } = await import("../../src/cluster/api.js");
      const { getObject, listObjects } = await import("../../src/kube/index.js");
      const { NODES, SERVICES } = await import("../../src/tunnel/objects.js");
      const { serviceUrls } = await import("../../src/tunnel/service-url.js");
      const kc = await profileClient(globals(program).profile);
      const svc = (await getObject(kc, { ...SERVICES, namespace: opts.namespace, name })) as Service | undefined;
      if (!svc) {
        throw new UserError(`service "${name}" not found in namespace "${opts.namespace}"`, "`kubectl get services -A` lists them; -n names the namespace");
      }
      const nodes = (await listObjects(kc, NODES)).items as Node[];
      const { urls, note } = serviceUrls(svc, nodes);
      if (note) process.stderr.write(`${note}\n`);
      for (const u of urls) process.stdout.write(`${u}\n`);
      if (opts.url || !urls[0]?.startsWith("http")) return;
      await openInBrowser(urls[0]);
    });
}

/** Opens a URL with the desktop's opener, when there is a desktop; says so when there is none. */
async function openInBrowser(url: string): Promise<void> {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    process.stderr.write("no desktop to open a browser on (DISPLAY is unset): the URL is above\n");
    return;
  }
  const { execa } = await import("execa");
  try {
    await execa(opener, [url], { detached: true, stdio: "ignore" });
  } catch {
    process.stderr.write(`could not run ${opener} to open ${url}\n`);
  }
}
