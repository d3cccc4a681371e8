import type { Command } from "commander";
import type { SourceChoice } from "../../src/artifacts/source-choice.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, supportedVersionList, type ComponentVersions } from "../../src/versions/versions.js";
import { createDriver, type DriverChoice, type NodeDriver } from "../../src/drivers/index.js";
import { UserError } from "../../src/util/errors.js";
import { readState } from "../../src/cluster/state.js";

export interface GlobalOptions {
  verbose: boolean;
  profile: string;
  driver: DriverChoice;
}

export function globals(program: Command): GlobalOptions {
  return program.opts<GlobalOptions>();
}

/**
 * The driver of the engine --driver (or KUBEYARD_DRIVER) names, once the engine answers. Without either,
 * a command on a cluster uses the engine the cluster was made in; otherwise the one found (auto).
 */
export async function engineDriver(program: Command, log?: (message: string) => void, opts: DriverTarget = {}): Promise<NodeDriver> {
  const driver = await createDriver(await driverChoice(program, opts.profile ?? globals(program).profile), { log });
  await driver.preflight();
  return driver;
}

/** Whose engine: a profile's (by default -p's), or `profile: false` for commands on the engine as a whole. */
export interface DriverTarget {
  profile?: string | false;
}

async function driverChoice(program: Command, profile: string | false): Promise<DriverChoice> {
  const { driver } = globals(program);
  if (profile === false || program.getOptionValueSource("driver") !== "default") return driver;
  return (await readState(profile))?.driver ?? driver;
}

/** engineDriver that, under --verbose, says what it does on stderr. */
export function driverFor(program: Command, opts: DriverTarget = {}): Promise<NodeDriver> {
  const verbose = globals(program).verbose;
  return engineDriver(program, (m) => verbose && process.stderr.write(`  ${m}\n`), opts);
}

export function resolveVersion(requested: string | undefined): ComponentVersions {
  const v = findVersion(requested ?? DEFAULT_KUBERNETES_VERSION);
  if (!v) {
    throw new UserError(
      `--kubernetes-version "${requested}" is not supported.`,
      `Supported versions: ${supportedVersionList()} (a minor such as 1.36 means its newest patch).`,
    );
  }
  return v;
}

/** What `--source` or its synonym `--artifacts` (see addSourceOptions) chose. */
export function sourceOf(opts: { source?: string; artifacts?: string }): SourceChoice {
  return (opts.artifacts ?? opts.source ?? "auto") as SourceChoice;
}
