import { rmSync } from "node:fs";
import type { Result } from "execa";
import { afterAll, beforeAll, expect } from "vitest";
import { TestUser, engineObjects, uniqueProfile } from "./cli.js";
import { kubectlOk } from "./kubectl.js";

export interface FileCluster {
  user: TestUser;
  profile: string;
  /** The `kubeyard start` that made the cluster (once beforeAll ran). */
  started: () => Result;
}

/**
 * One cluster for a whole test file: started through the CLI in beforeAll (with `startArgs`, and
 * `namespaces` created once it is up), deleted in afterAll, which also checks that the engine holds
 * nothing of it any more. A start that fails fails every test of the file with kubeyard's output.
 */
export function clusterForFile(
  prefix: string,
  opts: { startArgs?: string[]; namespaces?: string[]; startTimeoutMs?: number; user?: TestUser } = {},
): FileCluster {
  const user = opts.user ?? new TestUser();
  const profile = uniqueProfile(prefix);
  let result: Result | undefined;

  beforeAll(async () => {
    const r = await user.kubeyard(["start", "-p", profile, ...(opts.startArgs ?? [])]);
    result = r;
    if (r.exitCode !== 0) throw new Error(`kubeyard start failed (${r.exitCode}):\n${String(r.all)}`);
    for (const ns of opts.namespaces ?? []) await kubectlOk(user, "create", "namespace", ns);
  }, opts.startTimeoutMs ?? 900_000);

  afterAll(async () => {
    const r = await user.kubeyard(["delete", "-p", profile]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(await engineObjects(profile)).toEqual({ containers: [], networks: [], volumes: [] });
    rmSync(user.home, { recursive: true, force: true });
  }, 300_000);

  return {
    user,
    profile,
    started: () => {
      if (!result) throw new Error("the file's cluster has not been started");
      return result;
    },
  };
}
