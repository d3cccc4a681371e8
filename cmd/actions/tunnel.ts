import type { Command } from "commander";
import { tunnelOf } from "../../src/ops/tunnel.js";
import type { ForwardingChoice } from "../../src/tunnel/forwarding.js";
import { formatRows, rowLines } from "../../src/tunnel/table.js";
import type { TunnelRow } from "../../src/tunnel/tunnel.js";
import { interactiveOutput } from "../ui/tasks.js";
import { engineDriver, globals } from "./common.js";

export default async function tunnel(program: Command, opts: { mode: ForwardingChoice }): Promise<void> {
  const profile = globals(program).profile;
  const live = interactiveOutput();
  let drawn = 0;
  let previous: TunnelRow[] = [];
  await tunnelOf(profile, opts.mode, {
    engine: () => engineDriver(program),
    onStart: (describe, leftoverPid) => {
      if (leftoverPid) {
        process.stdout.write(`an earlier tunnel (pid ${leftoverPid}) did not stop cleanly; its addresses are taken over or cleared\n`);
      }
      process.stdout.write(`tunnel for cluster "${profile}" is running (${describe}); Ctrl-C stops it\n`);
    },
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
  // Idle keep-alive connections to the API server would keep the process alive for a while.
  process.stdout.write("tunnel stopped: listeners closed, addresses cleared\n", () => process.exit(0));
}
