import { checkDNS1123Subdomain, type NameProblem } from "../config/k8s-names.js";

/**
 * Formats a string value of an addon may be held to (`format:` in addon.yaml). A value that goes
 * into text another program parses (a Corefile, a flag) is checked here, so a bad one fails at
 * `--set` with what is accepted rather than as a crashing pod.
 */
export const VALUE_FORMATS = {
  "dns-subdomain": checkDNS1123Subdomain,
} as const satisfies Record<string, (text: string) => NameProblem | undefined>;

export type ValueFormat = keyof typeof VALUE_FORMATS;
export const VALUE_FORMAT_NAMES = Object.keys(VALUE_FORMATS) as ValueFormat[];

/** What is wrong with `text` in `format`, or undefined when it is fine. */
export function checkFormat(format: ValueFormat, text: string): NameProblem | undefined {
  return VALUE_FORMATS[format](text);
}
