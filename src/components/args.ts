import { isIPv6 } from "node:net";
import type { Component } from "../config/index.js";
import { UserError } from "../util/errors.js";

/** A component's flags in order, names without "--". */
export type Flags = ReadonlyArray<readonly [name: string, value: string]>;

const FLAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Turns flags into `--name=value` arguments with the user's extra args laid over them: an extra
 * arg with the name of a built-in flag replaces it in place, any other is appended. Each argument
 * becomes one line of the args file, so a value may not contain a line break; the names and values
 * are checked here because a bad one would otherwise surface only as a component that never starts.
 */
export function renderArgs(component: Component, flags: Flags, extraArgs: Readonly<Record<string, string>> = {}): string[] {
  const merged = new Map<string, string>();
  for (const [name, value] of flags) merged.set(name, value);
  for (const [name, value] of Object.entries(extraArgs)) {
    if (!FLAG_NAME.test(name)) {
      throw new UserError(
        `extraArgs.${component} has an invalid flag name "${name}"`,
        'give the flag name without leading dashes, e.g. "v" for --v',
      );
    }
    merged.set(name, value);
  }
  return [...merged].map(([name, value]) => {
    if (/[\r\n\0]/.test(value)) {
      throw new UserError(`the value of ${component} flag --${name} contains a line break`, "give the flag a single-line value");
    }
    return `--${name}=${value}`;
  });
}

/**
 * `A=true,B=false` for a --feature-gates flag, sorted so the same gates always give the same
 * arguments (and so an unchanged config never looks like a change); undefined when there are none.
 */
export function featureGatesValue(gates: Readonly<Record<string, boolean>>): string | undefined {
  const names = Object.keys(gates).sort();
  if (names.length === 0) return undefined;
  return names.map((name) => `${name}=${gates[name] ? "true" : "false"}`).join(",");
}

/** The feature-gates flag, or nothing: spread into a flag list. */
export function featureGatesFlag(gates: Readonly<Record<string, boolean>>): Flags {
  const value = featureGatesValue(gates);
  return value === undefined ? [] : [["feature-gates", value]];
}

/** The args file a runit service reads: one argument per line. */
export function argsFile(args: readonly string[]): string {
  return args.map((a) => `${a}\n`).join("");
}

/** "host:port" with an IPv6 host in brackets, as URLs need it. */
export function hostPort(ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function httpsURL(ip: string, port: number): string {
  return `https://${hostPort(ip, port)}`;
}
