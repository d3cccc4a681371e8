import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

/**
 * A kubeconfig that someone other than kubeyard wrote: a cluster, user and context named "foreign",
 * with a comment and an extra top-level key, as a hand-edited file often has. Tests check that
 * kubeyard never changes or drops any of it.
 */
export const FOREIGN_KUBECONFIG = `# written by hand; kubeyard must leave this alone
apiVersion: v1
kind: Config
clusters:
- name: foreign
  cluster:
    server: https://foreign.example:6443
    insecure-skip-tls-verify: true
users:
- name: foreign
  user:
    token: not-a-real-token
contexts:
- name: foreign
  context:
    cluster: foreign
    user: foreign
    namespace: team-a
current-context: foreign
preferences: {}
x-someone-elses-key: keep me
`;

/** Writes FOREIGN_KUBECONFIG to `file` (creating its folder) and returns the bytes written. */
export function writeForeignKubeconfig(file: string): Buffer {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const bytes = Buffer.from(FOREIGN_KUBECONFIG);
  writeFileSync(file, bytes, { mode: 0o600 });
  return bytes;
}

interface Named {
  name: string;
  [key: string]: unknown;
}

export interface ParsedKubeconfig {
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  "current-context"?: string;
  [key: string]: unknown;
}

/** Parses `file` strictly (any YAML error throws) the way a reader of the file would see it. */
export function readKubeconfigFile(file: string): ParsedKubeconfig {
  const doc = parse(readFileSync(file, "utf8"), { version: "1.1", strict: true, uniqueKeys: true }) as ParsedKubeconfig;
  return { ...doc, clusters: doc.clusters ?? [], users: doc.users ?? [], contexts: doc.contexts ?? [] };
}

/** The foreign cluster, user and context exactly as FOREIGN_KUBECONFIG has them, for toEqual. */
export function foreignEntries(): { cluster: Named; user: Named; context: Named; extra: unknown } {
  const doc = parse(FOREIGN_KUBECONFIG, { version: "1.1" }) as ParsedKubeconfig;
  return { cluster: doc.clusters[0]!, user: doc.users[0]!, context: doc.contexts[0]!, extra: doc["x-someone-elses-key"] };
}

/** The same view of a file under test, to compare with foreignEntries(). */
export function foreignEntriesIn(file: string): { cluster?: Named; user?: Named; context?: Named; extra: unknown } {
  const doc = readKubeconfigFile(file);
  const find = (list: Named[]) => list.find((x) => x.name === "foreign");
  return { cluster: find(doc.clusters), user: find(doc.users), context: find(doc.contexts), extra: doc["x-someone-elses-key"] };
}

/** Names of the clusters, users and contexts in `file`. */
export function entryNames(file: string): { clusters: string[]; users: string[]; contexts: string[] } {
  const doc = readKubeconfigFile(file);
  return {
    clusters: doc.clusters.map((x) => x.name),
    users: doc.users.map((x) => x.name),
    contexts: doc.contexts.map((x) => x.name),
  };
}
