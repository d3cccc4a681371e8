import os from "node:os";
import type { Command } from "commander";
import { UserError } from "../../src/util/errors.js";
import { engineDriver, globals } from "./common.js";

/** Commands for a cluster that runs: logs, ssh, kubectl, pause and unpause. */
export function registerDay2(program: Command): void {
  program
    .command("logs")
    .description("collect every component's logs, node and cluster info into a directory or FILE.tar.gz, for a bug report (no key material)")
    .option("--output <path>", "a new (or empty) directory, or a FILE.tar.gz (default: ./kubeyard-logs-PROFILE-TIME.tar.gz)")
    .action(async (opts: { output?: string }) => {
      const { collectLogs, defaultLogsOutput } = await import("../../src/day2/logs.js");
      const profile = globals(program).profile;
      const r = await collectLogs(await engineDriver(), profile, opts.output ?? defaultLogsOutput(profile), { kubeyardVersion: program.version() });
      for (const p of r.problems) process.stderr.write(`! ${p}\n`);
      process.stdout.write(`wrote ${r.path} (${r.nodes.length} node${r.nodes.length === 1 ? "" : "s"}: ${r.nodes.join(", ")})\n`);
    });

  program
    .command("ssh")
    .description("a shell in a node (the first control plane unless NODE is given), or run a command there: kubeyard ssh [NODE] -- CMD ARGS...")
    .argument("[node-and-command...]", "NODE, then `--` and the command")
    .allowUnknownOption()
    .action(async (operands: string[]) => {
      const { pickNode, splitNodeAndCommand } = await import("../../src/day2/ssh.js");
      const profile = globals(program).profile;
      const { node: wanted, command } = splitNodeAndCommand(operands, process.argv);
      const d = await engineDriver();
      const node = pickNode(await d.listNodes(profile), profile, wanted);
      if (node.state !== "running") {
        throw new UserError(`node ${node.name} is ${node.state}`, node.state === "paused" ? "Resume it with `kubeyard unpause`." : "Start it with `kubeyard start`.");
      }
      const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
      const cmd = command.length ? command : ["/bin/bash", "-l"];
      if (tty) process.stdin.setRawMode(true);
      try {
        process.exitCode = await d.execAttached(node.name, cmd, {
          stdin: process.stdin,
          stdout: process.stdout,
          stderr: process.stderr,
          tty,
          env: tty ? { TERM: process.env.TERM ?? "xterm" } : {},
          size: () => ({ rows: process.stdout.rows, columns: process.stdout.columns }),
          onResize: (listener) => {
            process.stdout.on("resize", listener);
            return () => void process.stdout.off("resize", listener);
          },
        });
      } finally {
        if (tty) process.stdin.setRawMode(false);
        process.stdin.destroy();
      }
    });

  program
    .command("kubectl")
    .description("run the kubectl of the cluster's version against it (its own kubeconfig; yours is not used or changed): kubeyard kubectl -- ARGS")
    .argument("[args...]", "kubectl's arguments, after `--`")
    .allowUnknownOption()
    .action(async (args: string[]) => {
      const { clusterKubectl } = await import("../../src/day2/kubectl.js");
      const { execa } = await import("execa");
      const k = await clusterKubectl(globals(program).profile, { warn: (m) => process.stderr.write(`! ${m}\n`) });
      // Ctrl-C reaches kubectl too; kubeyard waits for it and passes its exit status on.
      const ignore = () => undefined;
      process.on("SIGINT", ignore);
      try {
        const r = await execa(k.binary, args, { env: { ...process.env, KUBECONFIG: k.kubeconfig }, stdio: "inherit", reject: false });
        const signal = r.signal ? os.constants.signals[r.signal as keyof typeof os.constants.signals] : undefined;
        process.exitCode = r.exitCode ?? (signal ? 128 + signal : 1);
      } finally {
        process.off("SIGINT", ignore);
      }
    });

  program
    .command("pause")
    .description("freeze every node of the cluster; `unpause` (or `start`) resumes it with its workloads and state")
    .action(async () => {
      const { pauseProfile } = await import("../../src/ops/cluster.js");
      const profile = globals(program).profile;
      const paused = await pauseProfile(await engineDriver(), profile);
      process.stdout.write(`${paused.length ? `paused ${paused.join(", ")}` : `cluster "${profile}" is paused already`}\n`);
    });

  program
    .command("unpause")
    .description("resume a paused cluster and wait until its API server, nodes and CoreDNS are ready")
    .action(async () => {
      const { unpauseProfile } = await import("../../src/ops/cluster.js");
      const profile = globals(program).profile;
      const resumed = await unpauseProfile(await engineDriver(), profile);
      process.stdout.write(`${resumed.length ? `resumed ${resumed.join(", ")}` : `cluster "${profile}" is not paused`}\n`);
    });
}
