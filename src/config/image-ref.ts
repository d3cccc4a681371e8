import type { NameProblem } from "./k8s-names.js";

/**
 * The shape of a container image reference (the grammar of the distribution project's reference
 * package): `[registry[:port]/]path[:tag][@digest]`. Checked so that a typo in `nodeImage` is
 * reported with the config errors instead of as an engine error after the cluster started forming.
 */
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?)`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE_RE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);

export function checkImageRef(text: string): NameProblem | undefined {
  const allowed = "an image reference such as example.com/kubeyard/node:v1.37.1 (lowercase repository, optional tag and @digest)";
  const m = REFERENCE_RE.exec(text);
  if (!m) return { problem: "is not a valid image reference", allowed };
  if (m[1]!.length > 255) return { problem: "has a repository name longer than 255 characters", allowed };
  return undefined;
}
