import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { engineObjects } from "./helpers/cli.js";
import { applySleeper, inContext, kubectlOk, waitFor, type Kubectl } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * Three control planes behind a load balancer: etcd keeps quorum and the API keeps answering, through
 * the kubeconfig's endpoint, when one control-plane container stops. A fourth joins; a snapshot of
 * all four is restored.
 */

const NS = "ha";

const { user, profile } = clusterForFile("e2e-ha", { startArgs: ["--control-planes", "3"], namespaces: [NS] });
const cps = [`${profile}-control-plane`, `${profile}-control-plane2`, `${profile}-control-plane3`];
const lb = `${profile}-external-load-balancer`;

/** The names of what `kubectl get ARGS` lists whose Ready condition is True, sorted; in `k`'s cluster. */
async function readyNamesIn(k: Kubectl, ...args: string[]): Promise<string[]> {
  const out = await kubectlOk(
    k,
    "get",
    ...args,
    "-o",
    'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
  );
  return out
    .trim()
    .split("\n")
    .filter((l) => l.endsWith("=True"))
    .map((l) => l.split("=")[0]!)
    .sort();
}

const readyNames = (...args: string[]) => readyNamesIn(user, ...args);
const readyNodes = () => readyNames("nodes");
/** The kube-system pods with the label `selector` that are Ready. */
const readyPods = (selector: string) => readyNames("pods", "-n", "kube-system", "-l", selector);

/** The names of the etcd members, as the member on `node` lists them. */
async function etcdMembers(node: string): Promise<string[]> {
  const pki = "/etc/kubernetes/pki/etcd";
  const r = await execa("docker", [
    "exec",
    node,
    "etcdctl",
    "--endpoints=https://127.0.0.1:2379",
    `--cacert=${pki}/ca.crt`,
    `--cert=${pki}/healthcheck-client.crt`,
    `--key=${pki}/healthcheck-client.key`,
    "member",
    "list",
  ]);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(", ")[2]!)
    .sort();
}

const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

describe("kubeyard start --control-planes 3", () => {
  it("has three Ready control planes, each an etcd member, behind a load balancer that is the kubeconfig's endpoint", async () => {
    expect(await readyNodes()).toEqual(cps);
    const server = (await kubectlOk(user, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")).trim();
    const port = server.split(":").at(-1);
    const published = (await execa("docker", ["port", lb, "6443/tcp"])).stdout.trim();
    expect(published).toBe(`127.0.0.1:${port}`);
    expect(await etcdMembers(cps[0]!)).toEqual(cps);
    const status = await user.kubeyard(["status", "-p", profile]);
    expect(status.exitCode, String(status.all)).toBe(0);
    expect(String(status.stdout)).toMatch(new RegExp(`${lb}\\s+load-balancer\\s+running`));
  });

  it("lists in kube-system, as kubeadm does, the four components of each control plane and one kube-proxy per node, all Ready", async () => {
    const wanted = cps.flatMap((n) => COMPONENTS.map((c) => `${c}-${n}`)).sort();
    await eventually(
      "every control plane's mirror pods to be Ready",
      async () => expect(await readyPods("tier=control-plane")).toEqual(wanted),
      {
        timeoutMs: 120_000,
        intervalMs: 2_000,
      },
    );
    const proxies = JSON.parse(await kubectlOk(user, "-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-proxy", "-o", "json")) as {
      items: { spec: { nodeName: string } }[];
    };
    expect(proxies.items.map((p) => p.spec.nodeName).sort()).toEqual(cps);
    expect(await readyPods("k8s-app=kube-proxy")).toHaveLength(3);
    for (const c of COMPONENTS) expect(await kubectlOk(user, "-n", "kube-system", "logs", `${c}-${cps[2]}`, "--tail=5")).not.toBe("");
  });

  it("brings a killed kube-apiserver back as the same static pod, restarted by its kubelet", async () => {
    const pod = `kube-apiserver-${cps[2]}`;
    const restarts = async () =>
      Number(await kubectlOk(user, "-n", "kube-system", "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"));
    const before = await restarts();
    await execa("docker", ["exec", cps[2]!, "pkill", "-KILL", "-x", "kube-apiserver"]);
    await eventually(
      `${pod} to restart and be Ready again`,
      async () => {
        expect(await restarts()).toBeGreaterThan(before);
        expect(await readyPods("component=kube-apiserver")).toContain(pod);
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
  }, 300_000);

  it("keeps answering and scheduling with one control-plane container stopped", async () => {
    await execa("docker", ["stop", "-t", "5", cps[0]!]);
    // The API answers through the load balancer as soon as it stops sending clients to the stopped one.
    await eventually("the API server to answer through the load balancer", () => kubectlOk(user, "get", "nodes"), { timeoutMs: 60_000 });
    await eventually(
      `${cps[0]} to be NotReady`,
      async () => {
        const ready = await readyNodes();
        if (ready.includes(cps[0]!)) throw new Error(`${cps[0]} is still Ready`);
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    await applySleeper(user, NS, "after-failover", BUSYBOX);
    await waitFor(user, NS, ["pod/after-failover", "--for=condition=Ready"], "300s");
    const node = (await kubectlOk(user, "-n", NS, "get", "pod", "after-failover", "-o", "jsonpath={.spec.nodeName}")).trim();
    expect(cps.slice(1)).toContain(node);
    expect((await kubectlOk(user, "get", "nodes", "--no-headers")).trim().split("\n")).toHaveLength(3);
  }, 600_000);

  it("brings the stopped control plane back with `kubeyard start`", async () => {
    const r = await user.kubeyard(["start", "-p", profile]);
    expect(r.exitCode, String(r.all)).toBe(0);
    await eventually(
      "all three control planes to be Ready",
      async () => {
        const ready = await readyNodes();
        if (ready.length !== 3) throw new Error(`Ready: ${ready.join(", ")}`);
      },
      { timeoutMs: 300_000, intervalMs: 2_000 },
    );
  }, 600_000);

  it("adds a fourth control plane: an etcd member, a server behind the load balancer, a Ready node", async () => {
    const added = `${profile}-control-plane4`;
    const r = await user.kubeyard(["node", "add", "--role", "control-plane", "-p", profile]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(await readyNodes()).toEqual([...cps, added].sort());
    expect(await etcdMembers(cps[1]!)).toEqual([...cps, added].sort());
    const cfg = (await execa("docker", ["exec", lb, "cat", "/usr/local/etc/haproxy/haproxy.cfg"])).stdout;
    expect(cfg).toMatch(new RegExp(`server ${added} `));
    await eventually(
      "the new control plane's mirror pods to be Ready",
      async () => expect(await readyPods(`tier=control-plane`)).toEqual(expect.arrayContaining(COMPONENTS.map((c) => `${c}-${added}`))),
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
  }, 600_000);

  it("saves all four control planes and restores them: etcd's data of each member, the objects back, every node Ready", async () => {
    const all = [...cps, `${profile}-control-plane4`].sort();
    const kubeyard = async (...args: string[]) => {
      const r = await user.kubeyard(args);
      expect(r.exitCode, `kubeyard ${args.join(" ")}\n${String(r.all)}`).toBe(0);
    };
    await kubectlOk(user, "-n", NS, "create", "configmap", "kept", "--from-literal=k=saved");
    await kubeyard("-p", profile, "snapshot", "save", "ha");
    await kubectlOk(user, "-n", NS, "delete", "configmap", "kept");
    await kubectlOk(user, "-n", NS, "create", "configmap", "later", "--from-literal=k=later");
    await kubeyard("snapshot", "restore", "ha");
    expect(await kubectlOk(user, "-n", NS, "get", "configmap", "kept", "-o", "jsonpath={.data.k}")).toBe("saved");
    expect((await user.kubectl(["-n", NS, "get", "configmap", "later"])).exitCode).not.toBe(0);
    await eventually("every node to be Ready", async () => expect(await readyNodes()).toEqual(all), {
      timeoutMs: 180_000,
      intervalMs: 2_000,
    });
    expect(await etcdMembers(cps[0]!)).toEqual(all);
  }, 600_000);

  it("copies that snapshot into a second cluster of four control planes, with its own etcd members, while the first runs", async () => {
    const all = [...cps, `${profile}-control-plane4`].sort();
    const copy = `${profile}-copy`;
    const copyCps = ["", "2", "3", "4"].map((i) => `${copy}-control-plane${i}`);
    const k = inContext(user, copy);
    try {
      const r = await user.kubeyard(["start", "--from-snapshot", "ha", "-p", copy]);
      expect(r.exitCode, String(r.all)).toBe(0);
      expect(await kubectlOk(k, "-n", NS, "get", "configmap", "kept", "-o", "jsonpath={.data.k}")).toBe("saved");
      expect((await k.kubectl(["-n", NS, "get", "configmap", "later"])).exitCode).not.toBe(0);
      expect(await readyNamesIn(k, "nodes")).toEqual(copyCps);
      expect(await etcdMembers(copyCps[0]!)).toEqual(copyCps);
      await eventually(
        "the copy's control-plane pods, and only its own, to be Ready",
        async () =>
          expect(await readyNamesIn(k, "pods", "-n", "kube-system", "-l", "tier=control-plane")).toEqual(
            copyCps.flatMap((n) => COMPONENTS.map((c) => `${c}-${n}`)).sort(),
          ),
        { timeoutMs: 120_000, intervalMs: 2_000 },
      );
      expect(await readyNamesIn(inContext(user, profile), "nodes")).toEqual(all);
    } finally {
      await user.kubeyard(["delete", "-p", copy]);
      await kubectlOk(user, "config", "use-context", profile);
    }
    expect(await engineObjects(copy)).toEqual({ containers: [], networks: [], volumes: [] });
  }, 900_000);
});
