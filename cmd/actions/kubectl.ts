import os from "node:os";
import type { Command } from "commander";
import { execa } from "execa";
import { clusterKubectl } from "../../src/day2/kubectl.js";
import { globals } from "./common.js";

export default async function kubectl(program: Command, args: string[]): Promise<void> {
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
}
