import { checkDNS1123Label, type NameProblem } from "./k8s-names.js";
import { ConfigError } from "./issues.js";

/**
 * A profile name becomes a kubeconfig context, a state folder and the prefix of container and
 * node names, so it has to be valid as all of them: a DNS-1123 label.
 */
export function checkProfileName(name: string): NameProblem | undefined {
  const p = checkDNS1123Label(name);
  return p && { ...p, allowed: `${p.allowed} (e.g. "dev")` };
}

/** Throws a ConfigError naming `field` (the `--profile` flag by default) unless `name` is a valid profile name. */
export function validateProfileName(name: string, field = "--profile"): string {
  const p = checkProfileName(name);
  if (p) throw new ConfigError([{ field, value: JSON.stringify(name), ...p }], { title: "invalid profile name" });
  return name;
}
