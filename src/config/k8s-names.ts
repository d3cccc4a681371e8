/**
 * The name rules Kubernetes applies (k8s.io/apimachinery/pkg/util/validation), checked here so a
 * bad label or name fails before a node exists rather than when the API server refuses it.
 * Each check returns what is wrong and what would be accepted, or undefined when the text is fine.
 */

export interface NameProblem {
  problem: string;
  allowed: string;
}

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const DNS1123_LABEL_ALLOWED =
  "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

export function checkDNS1123Label(text: string, max = 63): NameProblem | undefined {
  const allowed = DNS1123_LABEL_ALLOWED.replace("at most 63", `at most ${max}`);
  if (text.length === 0) return { problem: "is empty", allowed };
  if (text.length > max) return { problem: `is ${text.length} characters long`, allowed };
  if (!LABEL_RE.test(text)) return { problem: "is not a DNS-1123 label", allowed };
  return undefined;
}

export function checkDNS1123Subdomain(text: string): NameProblem | undefined {
  const allowed = "a DNS-1123 subdomain: dot-separated DNS-1123 labels (lowercase letters, digits and '-'), at most 253 characters";
  if (text.length === 0) return { problem: "is empty", allowed };
  if (text.length > 253) return { problem: `is ${text.length} characters long`, allowed };
  if (!SUBDOMAIN_RE.test(text)) return { problem: "is not a DNS-1123 subdomain", allowed };
  return undefined;
}

const QUALIFIED_ALLOWED =
  "an optional DNS subdomain prefix and '/', then a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. example.com/tier)";

/** Label keys and taint keys. */
export function checkQualifiedName(text: string): NameProblem | undefined {
  const slash = text.indexOf("/");
  const prefix = slash >= 0 ? text.slice(0, slash) : undefined;
  const name = slash >= 0 ? text.slice(slash + 1) : text;
  if (prefix !== undefined) {
    const p = checkDNS1123Subdomain(prefix);
    if (p) return { problem: `has a prefix that ${p.problem}`, allowed: QUALIFIED_ALLOWED };
  }
  if (name.length === 0) return { problem: "has an empty name part", allowed: QUALIFIED_ALLOWED };
  if (name.length > 63) return { problem: `has a name part of ${name.length} characters`, allowed: QUALIFIED_ALLOWED };
  if (!QUALIFIED_NAME_RE.test(name)) return { problem: "is not a valid qualified name", allowed: QUALIFIED_ALLOWED };
  return undefined;
}

/** Label values and taint values: may be empty. */
export function checkLabelValue(text: string): NameProblem | undefined {
  const allowed = "an empty string or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  if (text.length > 63) return { problem: `is ${text.length} characters long`, allowed };
  if (text.length > 0 && !QUALIFIED_NAME_RE.test(text)) return { problem: "is not a valid label value", allowed };
  return undefined;
}
