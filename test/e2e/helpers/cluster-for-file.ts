import { rmSync } from "node:fs";
import type { Result } from "execa";
import { afterAll, beforeAll, expect } from "vitest";
import { isContainerRuntime, type ContainerRuntime } from "../../../src/config/index.js";
import { TestUser, engineObjects, uniqueProfile } from "./cli.js";
import { kubectlOk } from "./kubectl.js";

export interface FileCluster {
  user: TestUser;
  profile: string;
  /** The `kubeyard start` that made the cluster (once beforeAll ran). */
  started: () => Result;
}

export interface FileClusterOptions {
  /** Arguments of this file's `kubeyard start`, before the suite's (see suiteStartArgs). */
  startArgs?: string[];
  /** Namespaces created once the cluster is up. */
  namespaces?: string[];
  /** Runs once the cluster is up and the namespaces exist, within the same beforeAll (a workload every test relies on). */
  afterStart?: (cluster: { user: TestUser; profile: string }) => Promise<void>;
  /** For the start and `afterStart` together. */
  startTimeoutMs?: number;
  user?: TestUser;
}

/** The runtime the suite's clusters run: KUBEYARD_E2E_RUNTIME (the cri-o project of vitest.config.ts sets it), else containerd. */
export function suiteRuntime(env: NodeJS.ProcessEnv = process.env): ContainerRuntime {
  const runtime = env.KUBEYARD_E2E_RUNTIME ?? "containerd";
  if (!isContainerRuntime(runtime)) throw new Error(`KUBEYARD_E2E_RUNTIME=${runtime}: not a runtime`);
  return runtime;
}

/**
 * Arguments appended to every `kubeyard start` of clusterForFile, for running the whole suite
 * another way without touching its files: the suite's runtime (when not the default), then
 * KUBEYARD_E2E_START_ARGS="--flag value --other", split on whitespace (no quoting).
 */
export function suiteStartArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const runtime = suiteRuntime(env);
  return [
    ...(runtime === "containerd" ? [] : ["--container-runtime", runtime]),
    ...(env.KUBEYARD_E2E_START_ARGS ?? "").split(/\s+/).filter(Boolean),
  ];
}

/**
 * One cluster for a whole test file (or for the describe block it is called in): started through
 * the CLI in beforeAll (with the file's `startArgs` and then the suite's, `namespaces` created and
 * `afterStart` run once it is up), deleted in afterAll, which also checks that the engine holds
 * nothing of it any more. A start that fails fails every test of the file with kubeyard's output.
 */
export function clusterForFile(prefix: string, opts: FileClusterOptions = {}): FileCluster {
  const user = opts.user ?? new TestUser();
  const profile = uniqueProfile(prefix);
  let result: Result | undefined;

  beforeAll(async () => {
    const r = await user.kubeyard(["start", "-p", profile, ...(opts.startArgs ?? []), ...suiteStartArgs()]);
    result = r;
    if (r.exitCode !== 0) throw new Error(`kubeyard start failed (${r.exitCode}):\n${String(r.all)}`);
    for (const ns of opts.namespaces ?? []) await kubectlOk(user, "create", "namespace", ns);
    await opts.afterStart?.({ user, profile });
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
