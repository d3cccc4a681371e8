import type { Command } from "commander";
import type { SourceChoice } from "../../src/artifacts/source-choice.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, supportedVersionList, type ComponentVersions } from "../../src/versions/versions.js";
import { createDriver, type DriverChoice, type NodeDriver } from "../../src/drivers/index.js";
import { UserError } from "../../src/util/errors.js";

export interface GlobalOptions {
  verbose: boolean;
  profile: string;
  driver: DriverChoice;
}

export function globals(program: Command): GlobalOptions {
  return program.opts<GlobalOptions>();
}

/** The driver of the engine --driver names (or the one found), once the engine answers. */
export async function engineDriver(program: Command, log?: (message: string) => void): Promise<NodeDriver> {
  const driver = await createDriver(globals(program).driver, { log });
  await driver.preflight();
  return driver;
}

/** engineDriver that, under --verbose, says what it does on stderr. */
export function driverFor(program: Command): Promise<NodeDriver> {
  const verbose = globals(program).verbose;
  return engineDriver(program, (m) => verbose && process.stderr.write(`  ${m}\n`));
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
