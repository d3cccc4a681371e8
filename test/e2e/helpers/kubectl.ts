import type { TestUser } from "./cli.js";

/** Anything that runs kubectl as a user: a TestUser, or one pinned to a context (see `inContext`). */
export type Kubectl = Pick<TestUser, "kubectl">;

/** The user, with every kubectl call aimed at `context` instead of the current one. */
export function inContext(user: Kubectl, context: string): Kubectl {
  return { kubectl: (args, opts) => user.kubectl(["--context", context, ...args], opts) };
}

/** `kubectl apply -f -` of a YAML text, as the user; throws with kubectl's output when it fails. */
export async function apply(user: Kubectl, yaml: string): Promise<string> {
  const r = await user.kubectl(["apply", "-f", "-"], { input: yaml });
  if (r.exitCode !== 0) throw new Error(`kubectl apply failed (${r.exitCode}):\n${String(r.all)}\n--- manifest ---\n${yaml}`);
  return String(r.stdout);
}

/** A pod that only sleeps, of `image` (preloaded: never pulled), made and not waited for. */
export async function applySleeper(user: Kubectl, namespace: string, name: string, image: string): Promise<void> {
  await apply(
    user,
    `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: ${image}, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
`,
  );
}

/**
 * What a failed wait should show: the objects and recent events of a namespace, so a test failure
 * says why a pod never became ready instead of only that it did not.
 */
export async function describeNamespace(user: Kubectl, namespace: string): Promise<string> {
  const parts = await Promise.all([
    user.kubectl(["-n", namespace, "get", "all,pvc", "-o", "wide"]),
    user.kubectl(["-n", namespace, "get", "events", "--sort-by=.lastTimestamp"]),
  ]);
  return parts.map((r) => String(r.all)).join("\n");
}

/** `kubectl wait` (it watches) that throws with the namespace's objects and events when it times out. */
export async function waitFor(user: Kubectl, namespace: string, args: string[], timeout = "180s"): Promise<void> {
  const r = await user.kubectl(["-n", namespace, "wait", ...args, `--timeout=${timeout}`]);
  if (r.exitCode !== 0) {
    throw new Error(`kubectl wait ${args.join(" ")} failed:\n${String(r.all)}\n${await describeNamespace(user, namespace)}`);
  }
}

/** `kubectl rollout status` (it watches) that throws with the namespace's objects and events when it times out. */
export async function rolledOut(user: Kubectl, namespace: string, target: string, timeout = "180s"): Promise<void> {
  const r = await user.kubectl(["-n", namespace, "rollout", "status", target, `--timeout=${timeout}`]);
  if (r.exitCode !== 0) {
    throw new Error(`kubectl rollout status ${target} failed:\n${String(r.all)}\n${await describeNamespace(user, namespace)}`);
  }
}

/** kubectl that must succeed; returns its stdout. */
export async function kubectlOk(user: Kubectl, ...args: string[]): Promise<string> {
  const r = await user.kubectl(args);
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.exitCode}):\n${String(r.all)}`);
  return String(r.stdout);
}

/** The runit service of the CRI runtime the cluster's nodes report (`containerd://…` or `cri-o://…`). */
export async function runtimeService(user: Kubectl): Promise<"containerd" | "crio"> {
  const version = await kubectlOk(user, "get", "nodes", "-o", "jsonpath={.items[0].status.nodeInfo.containerRuntimeVersion}");
  return version.startsWith("cri-o://") ? "crio" : "containerd";
}
