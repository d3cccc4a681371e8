import { UserError } from "../util/errors.js";
import type { Addon } from "./catalog.js";
import type { AddonValue, ValueSpec } from "./descriptor.js";
import { checkFormat } from "./value-formats.js";

export type ResolvedValues = Record<string, AddonValue>;

/** "replicas (int, default 1): CoreDNS pods", one line per value an addon accepts. */
export function describeValues(addon: Pick<Addon, "name" | "values">): string {
  const lines = Object.entries(addon.values).map(([key, spec]) => {
    const choices = spec.enum ? `; one of ${spec.enum.join(", ")}` : "";
    const bounds = spec.min !== undefined || spec.max !== undefined ? `; ${spec.min ?? "…"}..${spec.max ?? "…"}` : "";
    const format = spec.format ? `; a ${spec.format}` : "";
    return `${key} (${spec.type}, default ${String(spec.default)}${choices}${bounds}${format}): ${spec.description}`;
  });
  return lines.length ? `accepted values: ${lines.join("; ")}` : `the ${addon.name} addon takes no values`;
}

/**
 * The addon's values: its defaults with the user's `key=value` settings laid over them, each
 * parsed to its declared type. An unknown key fails listing the accepted ones; a value that is not
 * of the type, not in the enum or out of bounds fails saying what would be accepted.
 */
export function resolveValues(addon: Pick<Addon, "name" | "values">, set: Readonly<Record<string, string>> = {}): ResolvedValues {
  const out: ResolvedValues = Object.fromEntries(Object.entries(addon.values).map(([k, spec]) => [k, spec.default]));
  for (const [key, raw] of Object.entries(set)) {
    const spec = addon.values[key];
    if (!spec) throw new UserError(`the ${addon.name} addon has no value "${key}"`, describeValues(addon));
    out[key] = parseValue(addon.name, key, spec, raw);
  }
  return out;
}

function parseValue(addon: string, key: string, spec: ValueSpec, raw: string): AddonValue {
  const reject = (want: string) => new UserError(`invalid value "${raw}" for ${addon} value "${key}"`, `give ${want}`);
  let value: AddonValue;
  switch (spec.type) {
    case "int": {
      const text = raw.trim();
      if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw reject("an integer (type int)");
      value = Number(text);
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw reject(`an integer from ${spec.min ?? "any"} to ${spec.max ?? "any"}`);
      }
      break;
    }
    case "bool": {
      const text = raw.trim().toLowerCase();
      if (text !== "true" && text !== "false") throw reject("true or false (type bool)");
      value = text === "true";
      break;
    }
    default: {
      value = raw;
      const problem = spec.format && checkFormat(spec.format, raw);
      if (problem) throw reject(problem.allowed);
    }
  }
  if (spec.enum && !spec.enum.includes(value)) throw reject(`one of ${spec.enum.join(", ")}`);
  return value;
}
