import { execa, type Options, type Result } from "execa";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ArtifactCache } from "../../../src/artifacts/cache.js";
import { DEFAULT_KUBERNETES_VERSION } from "../../../src/versions/versions.js";

const CLI = path.resolve("dist/cmd/kubeyard.js");

/**
 * An isolated user for end-to-end tests: their own kubeconfig and kubeyard state dir (the artifact
 * cache and the engine are shared), driving kubeyard only through its CLI, as a person would.
 */
export class TestUser {
  readonly home = mkdtempSync(path.join(os.tmpdir(), "kubeyard-e2e-"));
  readonly kubeconfig = path.join(this.home, "kube", "config");
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBEYARD_HOME: path.join(this.home, "state"),
    KUBECONFIG: this.kubeconfig,
    CI: "true",
  };

  kubeyard(args: string[], opts: Options = {}): Promise<Result> {
    return execa("node", [CLI, ...args], { env: this.env, reject: false, all: true, ...opts }) as Promise<Result>;
  }

  /** kubectl of the cluster's version from kubeyard's artifact cache, using this user's kubeconfig. */
  async kubectl(args: string[], opts: Options = {}): Promise<Result> {
    return execa(await kubectlPath(), args, { env: this.env, reject: false, all: true, ...opts }) as Promise<Result>;
  }

  /** kubectl that must succeed; returns stdout. */
  async k(...args: string[]): Promise<string> {
    const r = await this.kubectl(args);
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.exitCode}):\n${String(r.all)}`);
    return String(r.stdout);
  }
}

let kubectl: string | undefined;
export async function kubectlPath(): Promise<string> {
  if (kubectl) return kubectl;
  const cache = new ArtifactCache();
  const art =
    (await cache.get("kubernetes", DEFAULT_KUBERNETES_VERSION, "release")) ??
    (await cache.get("kubernetes", DEFAULT_KUBERNETES_VERSION, "source"));
  if (!art) throw new Error("no cached Kubernetes binaries: the global setup should have built them");
  kubectl = path.join(art.dir, "kubectl");
  return kubectl;
}

export function uniqueProfile(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Every container, network and volume the engine holds for a cluster, by kubeyard's label. */
export async function engineObjects(profile: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filter = `label=dev.kubeyard.cluster=${profile}`;
  const lines = async (args: string[]) =>
    String((await execa("docker", args)).stdout)
      .split("\n")
      .filter(Boolean);
  return {
    containers: await lines(["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]),
    networks: await lines(["network", "ls", "--filter", filter, "--format", "{{.Name}}"]),
    volumes: await lines(["volume", "ls", "--filter", filter, "--format", "{{.Name}}"]),
  };
}

/** The built kubeyard CLI the tests drive, for tests that spawn it themselves (to signal it). */
export { CLI as KUBEYARD_CLI };
