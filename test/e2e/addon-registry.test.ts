import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { httpGet } from "./helpers/http-get.js";
import { kubectlOk, rolledOut, runtimeService } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * The registry addon does its job: the host pushes an image to localhost:PORT and a Deployment
 * runs it under that same name (every node's containerd pulls it from the in-cluster registry);
 * the image survives the registry pod's restart (its data is on a PVC); disabling removes the
 * registry, its volume and the nodes' containerd entry, and nothing of the user's.
 */

const NS = "e2e";
const { user, profile } = clusterForFile("e2e-reg", { startArgs: ["--addons", "registry"], namespaces: [NS] });
const repo = `e2e-app-${profile}`;
const pushed: string[] = [];
afterAll(async () => {
  for (const ref of pushed) await execa("docker", ["rmi", ref], { reject: false });
});

let port = 0;
const node = () => `${profile}-control-plane`;

describe("the registry addon", () => {
  it("is enabled by start --addons and published on a host port that status shows", async () => {
    const status = JSON.parse(String((await user.kubeyard(["-p", profile, "status", "-o", "json"])).stdout)) as {
      addons: string[];
      addonPorts: { registry: number };
    };
    expect(status.addons).toContain("registry");
    port = status.addonPorts.registry;
    const r = await httpGet(`http://127.0.0.1:${port}/v2/`);
    expect(r.status).toBe(200);
  });

  it("takes a push from the host, and a Deployment runs the image under the same name", async () => {
    const ref = `localhost:${port}/${repo}:1`;
    await execa("docker", ["tag", BUSYBOX, ref]);
    pushed.push(ref);
    const push = await execa("docker", ["push", ref], { reject: false, all: true });
    expect(push.exitCode, String(push.all)).toBe(0);
    // The nodes never had this name: running it means their runtime pulled it from the registry.
    const before = await execa("docker", ["exec", node(), "crictl", "inspecti", ref], { reject: false });
    expect(before.exitCode, before.stdout).not.toBe(0);
    await kubectlOk(user, "-n", NS, "create", "deployment", "app", "--image", ref, "--", "sleep", "3600");
    await rolledOut(user, NS, "deployment/app", "300s");
    const after = await execa("docker", ["exec", node(), "crictl", "inspecti", ref]);
    expect(after.stdout).toContain(`"${ref}"`);
  }, 600_000);

  it("keeps the image across a restart of the registry pod (its data is on a PVC)", async () => {
    await kubectlOk(user, "-n", "registry", "delete", "pod", "-l", "app.kubernetes.io/name=registry", "--wait=true");
    await rolledOut(user, "registry", "deployment/registry", "300s");
    const tags = await eventually(
      "the restarted registry to list the pushed tag",
      async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/v2/${repo}/tags/list`);
        if (r.status !== 200) throw new Error(`tags/list answered ${r.status}: ${r.body}`);
        return JSON.parse(r.body) as { tags: string[] };
      },
      { timeoutMs: 120_000 },
    );
    expect(tags.tags).toEqual(["1"]);
    // The node forgets the image and pulls it again from the restarted registry.
    const ref = `localhost:${port}/${repo}:1`;
    await execa("docker", ["exec", node(), "crictl", "rmi", ref]);
    await kubectlOk(user, "-n", NS, "create", "deployment", "again", "--image", ref, "--", "sleep", "3600");
    await rolledOut(user, NS, "deployment/again", "300s");
  }, 600_000);

  it("is removed by addons disable, with its volume and the nodes' runtime entry, and nothing else", async () => {
    const hosts =
      (await runtimeService(user)) === "crio"
        ? `/etc/containers/registries.conf.d/50-kubeyard-registry-${port}.conf`
        : `/etc/containerd/certs.d/localhost:${port}/hosts.toml`;
    expect((await execa("docker", ["exec", node(), "test", "-f", hosts], { reject: false })).exitCode).toBe(0);
    const r = await user.kubeyard(["-p", profile, "addons", "disable", "registry"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(await kubectlOk(user, "get", "namespaces", "-o", "name")).not.toContain("namespace/registry");
    // The claim goes with the addon; what happens to its volume is the StorageClass's reclaim policy.
    expect(await kubectlOk(user, "get", "pvc", "-A", "-o", "name")).not.toContain("registry-data");
    expect((await execa("docker", ["exec", node(), "test", "-e", hosts], { reject: false })).exitCode).not.toBe(0);
    await expect(httpGet(`http://127.0.0.1:${port}/v2/`, 3_000)).rejects.toThrow();
    expect(await kubectlOk(user, "-n", NS, "get", "deployments", "-o", "name")).toBe("deployment.apps/again\ndeployment.apps/app");
  }, 300_000);
});
