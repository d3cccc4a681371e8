import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { apply, kubectlOk, waitFor } from "./helpers/kubectl.js";

/*
 * Three control planes behind a load balancer: etcd keeps quorum and the API keeps answering, through
 * the kubeconfig's endpoint, when one control-plane container stops.
 */

const BUSYBOX = "docker.io/library/busybox:1.35.0";
const NS = "ha";

const { user, profile } = clusterForFile("e2e-ha", { startArgs: ["--control-planes", "3"], namespaces: [NS] });
const cps = [`${profile}-control-plane`, `${profile}-control-plane2`, `${profile}-control-plane3`];
const lb = `${profile}-external-load-balancer`;

async function readyNodes(): Promise<string[]> {
  const out = await kubectlOk(
    user,
    "get",
    "nodes",
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
    await apply(
      user,
      `
apiVersion: v1
kind: Pod
metadata: {name: after-failover, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: ${BUSYBOX}, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
`,
    );
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
  }, 600_000);
});
