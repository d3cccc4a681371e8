import type { Command } from "commander";
import { splitNodeAndCommand } from "../../src/day2/ssh.js";
import { shellNode } from "../../src/ops/node.js";
import { engineDriver, globals } from "./common.js";

export default async function ssh(program: Command, operands: string[]): Promise<void> {
  const profile = globals(program).profile;
  const { node: wanted, command } = splitNodeAndCommand(operands, process.argv);
  const d = await engineDriver(program);
  const node = await shellNode(d, profile, wanted);
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
}
