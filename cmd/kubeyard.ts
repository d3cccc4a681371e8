#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { createRequire } from "node:module";
import { UserError } from "../src/util/errors.js";
import { validateProfileName } from "../src/config/profile-name.js";
import { DRIVER_CHOICES } from "../src/drivers/index.js";
import { registerArtifacts } from "./commands/artifacts.js";
import { registerBuild } from "./commands/build.js";
import { registerCluster } from "./commands/cluster.js";
import { registerImage } from "./commands/image.js";
import { registerAddons } from "./commands/addons.js";
import { registerTunnel } from "./commands/tunnel.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerDay2 } from "./commands/day2.js";
import { registerNode } from "./commands/node.js";
import { registerRegistryMirror } from "./commands/registry-mirror.js";
import { registerSnapshot } from "./commands/snapshot.js";

const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };

const program = new Command("kubeyard")
  .description("Local Kubernetes clusters whose nodes are containers on your machine")
  .version(pkg.version, "--version", "print kubeyard's version")
  .option("-v, --verbose", "say more about what happens", false)
  .option("-p, --profile <name>", "which cluster (profile) to act on", "kubeyard")
  .addOption(
    new Option("--driver <engine>", "the container engine nodes run in (auto: Docker's socket, else Podman's)")
      .choices(DRIVER_CHOICES)
      .default("auto")
      .env("KUBEYARD_DRIVER"),
  )
  .showHelpAfterError()
  .exitOverride();

// Registering only defines the commands; each action's body (cmd/actions/) loads when it runs (see lazy.ts).
registerCluster(program);
registerAddons(program);
registerDashboard(program);
registerNode(program);
registerImage(program);
registerArtifacts(program);
registerBuild(program);
registerTunnel(program);
registerRegistryMirror(program);
registerSnapshot(program);
registerDay2(program);

program.hook("preAction", () => {
  validateProfileName(program.opts<{ profile: string }>().profile);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof UserError) {
    process.stderr.write(`kubeyard: ${err.message}\n`);
    if (err.hint) process.stderr.write(`${err.hint}\n`);
    return err.exitCode;
  }
  // listr2 wraps task errors; show the user's error when there is one underneath.
  const inner = (err as { error?: unknown; cause?: unknown }).cause;
  if (inner && inner !== err) return report(inner);
  process.stderr.write(`kubeyard: ${(err as Error).stack ?? String(err)}\n`);
  return 1;
}
