import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import buildNodeImage from "../global-setup.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The docker leg started beside the suite: its output, and the file its exit status lands in. */
    dockerLeg: { log: string; rc: string };
  }
}

/**
 * Starts the host matrix's docker leg (run-leg.sh) as soon as the node image exists, beside the rest
 * of the suite: the VM is emulated and takes most of an hour, nearly all of it CPU, while the host's
 * tests spend much of theirs waiting for clusters. QEMU runs under nice, so the host's tests come first
 * and the VM takes what they leave. The hosts project runs after every other (groupOrder), and its test
 * waits for the leg to end. Teardown stops a leg still running (a run cut short).
 */
export default async function setup(project: TestProject): Promise<() => void> {
  await buildNodeImage();
  const dir = mkdtempSync(path.join(os.tmpdir(), "kubeyard-leg-"));
  const log = path.join(dir, "leg.log");
  const rc = path.join(dir, "rc");
  const leg = spawn("bash", ["-c", 'test/hosts/run-leg.sh docker >"$1" 2>&1; echo $? >"$2"', "leg", log, rc], {
    detached: true,
    stdio: "ignore",
    // The subset starts its own clusters; dist is the suite's own build, which tests are running from
    // (building it again would rewrite files under them); the VM gets 55 minutes.
    env: { ...process.env, KUBEYARD_HOSTS_HAND_START: "0", KUBEYARD_HOSTS_PREBUILT: "1", KUBEYARD_HOSTS_TIMEOUT: "3300" },
  });
  leg.unref();
  process.stdout.write(`hosts: docker leg started beside the suite; its output: ${log}\n`);
  project.provide("dockerLeg", { log, rc });
  return () => {
    if (!existsSync(rc) && leg.pid) process.kill(-leg.pid, "SIGTERM");
  };
}
