import { describe, expect, it } from "vitest";
import { componentLog, isArchiveOutput, podLog, redactState, scrubSecrets } from "../../src/day2/logs.js";
import { normalizeImageRef, parseCrictlImages, parseCtrImages, visibleImages } from "../../src/node/images.js";
import { pickNode, splitNodeAndCommand } from "../../src/day2/ssh.js";
import type { ClusterState } from "../../src/cluster/state.js";
import type { NodeInfo } from "../../src/drivers/types.js";

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;
const CTR_LS = [
  "REF                                    TYPE                                                 DIGEST     SIZE      PLATFORMS   LABELS",
  `docker.io/library/myapp:dev            application/vnd.docker.distribution.manifest.v2+json ${D1} 4.1 MiB   linux/amd64 io.cri-containerd.image=managed`,
  `docker.io/library/myapp@${D1}          application/vnd.docker.distribution.manifest.v2+json ${D1} 4.1 MiB   linux/amd64 io.cri-containerd.image=managed`,
  `sha256:${"c".repeat(64)}               application/vnd.docker.distribution.manifest.v2+json ${D1} 4.1 MiB   linux/amd64 io.cri-containerd.image=managed`,
  `registry.k8s.io/pause@${D2}            application/vnd.oci.image.index.v1+json              ${D2} 311.5 KiB linux/386,linux/amd64 -`,
  "",
].join("\n");

describe("node images", () => {
  it("parses ctr's listing, sizes with their unit", () => {
    const all = parseCtrImages(CTR_LS);
    expect(all).toHaveLength(4);
    expect(all[0]).toEqual({ ref: "docker.io/library/myapp:dev", digest: D1, size: "4.1 MiB", platforms: "linux/amd64" });
    expect(all[3]!.size).toBe("311.5 KiB");
  });

  it("shows tagged references, and a digest reference only for an untagged image", () => {
    expect(visibleImages(parseCtrImages(CTR_LS)).map((i) => i.ref)).toEqual(["docker.io/library/myapp:dev", `registry.k8s.io/pause@${D2}`]);
  });

  it("parses crictl's JSON listing (CRI-O's images) as one reference per tag, or per digest for an untagged image", () => {
    const json = JSON.stringify({
      images: [
        {
          id: "c".repeat(64),
          repoTags: ["docker.io/library/myapp:dev", "localhost/myapp:dev"],
          repoDigests: [`docker.io/library/myapp@${D1}`],
          size: "4299161",
        },
        { id: `sha256:${"d".repeat(64)}`, repoTags: null, repoDigests: [`registry.k8s.io/pause@${D2}`], size: "318976" },
      ],
    });
    const all = parseCrictlImages(json);
    expect(all.map((i) => i.ref)).toEqual(["docker.io/library/myapp:dev", "localhost/myapp:dev", `registry.k8s.io/pause@${D2}`]);
    expect(all[0]).toEqual({ ref: "docker.io/library/myapp:dev", digest: `sha256:${"c".repeat(64)}`, size: "4.1 MiB", platforms: "linux" });
    expect(all[2]!.size).toBe("311.5 KiB");
    expect(visibleImages(all).map((i) => i.ref)).toEqual([
      "docker.io/library/myapp:dev",
      "localhost/myapp:dev",
      `registry.k8s.io/pause@${D2}`,
    ]);
    expect(parseCrictlImages('{"images":null}')).toEqual([]);
  });

  it("normalizes references the way the kubelet resolves them", () => {
    expect(normalizeImageRef("myapp:dev")).toBe("docker.io/library/myapp:dev");
    expect(normalizeImageRef("myapp")).toBe("docker.io/library/myapp:latest");
    expect(normalizeImageRef("me/myapp:1")).toBe("docker.io/me/myapp:1");
    expect(normalizeImageRef("registry.k8s.io/pause:3.10")).toBe("registry.k8s.io/pause:3.10");
    expect(normalizeImageRef("localhost:5000/app")).toBe("localhost:5000/app:latest");
    expect(normalizeImageRef(`localhost/app@${D1}`)).toBe(`localhost/app@${D1}`);
    expect(() => normalizeImageRef("My App")).toThrow(/"My App" is not a valid image reference/);
  });
});

describe("logs bundle", () => {
  it("an output ending in .tar.gz or .tgz is an archive, anything else a directory", () => {
    expect(isArchiveOutput("/x/bundle.tar.gz")).toBe(true);
    expect(isArchiveOutput("b.TGZ")).toBe(true);
    expect(isArchiveOutput("bundle")).toBe(false);
    expect(isArchiveOutput("bundle.tar")).toBe(false);
  });

  it("joins a component's rotated logs in time order before its current one", () => {
    const files = new Map([
      ["kubeyard/kubelet/current", "3\n"],
      ["kubeyard/kubelet/@400000006a0000020000000a.s", "2\n"],
      ["kubeyard/kubelet/@400000006a0000010000000a.s", "1\n"],
      ["kubeyard/kubelet/lock", ""],
      ["kubeyard/etcd/current", "other\n"],
    ]);
    expect(componentLog(files, "kubelet")).toBe("1\n2\n3\n");
    expect(componentLog(files, "kube-proxy")).toBe("");
  });

  it("takes kube-proxy's log from its pod's container logs, restarts in order", () => {
    const files = new Map([
      ["pods/kube-system_kube-proxy-x7k2p_0b1c/kube-proxy/10.log", "third\n"],
      ["pods/kube-system_kube-proxy-x7k2p_0b1c/kube-proxy/1.log", "second\n"],
      ["pods/kube-system_kube-proxy-x7k2p_0b1c/kube-proxy/0.log", "first\n"],
      ["pods/kube-system_coredns-5d9f_9a8b/coredns/0.log", "dns\n"],
      ["pods/default_kube-proxy-lookalike_1/app/0.log", "app\n"],
    ]);
    expect(podLog(files, "kube-system", "kube-proxy")).toBe("first\nsecond\nthird\n");
    expect(podLog(new Map(), "kube-system", "kube-proxy")).toBe("");
  });

  it("takes a static pod's log from its mirror-named pod folder, not another component's", () => {
    const files = new Map([
      ["pods/kube-system_etcd-demo-control-plane_5e1f/etcd/1.log", "after restart\n"],
      ["pods/kube-system_etcd-demo-control-plane_5e1f/etcd/0.log", "first run\n"],
      ["pods/kube-system_kube-apiserver-demo-control-plane_77aa/kube-apiserver/0.log", "apiserver\n"],
    ]);
    expect(podLog(files, "kube-system", "etcd")).toBe("first run\nafter restart\n");
    expect(podLog(files, "kube-system", "kube-apiserver")).toBe("apiserver\n");
    expect(podLog(files, "kube-system", "kube-scheduler")).toBe("");
  });

  it("removes private keys, kubeconfig credentials and the cluster's own key material", () => {
    const pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKey\n-----END EC PRIVATE KEY-----";
    const keyLine = "Q".repeat(64);
    const text = [
      `before ${pem} after`,
      "    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=",
      "    token: abc.def",
      `a log line with ${"x".repeat(10)}${keyLine}${"y".repeat(10)} in it`,
      "plain text stays",
    ].join("\n");
    const out = scrubSecrets(text, [keyLine]);
    expect(out).not.toContain("PRIVATE KEY-----\nMHc");
    expect(out).toContain("before [private key removed] after");
    expect(out).toContain("client-key-data: [redacted]");
    expect(out).toContain("token: [redacted]");
    expect(out).not.toContain(keyLine);
    expect(out).toContain("plain text stays");
  });

  it("blanks what could be a credential in the cluster record, and nothing else", () => {
    const state = {
      name: "dev",
      apiServerPort: 6443,
      config: {
        extraArgs: { "kube-apiserver": { "oidc-client-secret": "s3cret", v: "2" } },
        nodes: [{ taints: [{ key: "a", value: "b" }] }],
      },
      note: "-----BEGIN RSA PRIVATE KEY-----",
    } as unknown as ClusterState;
    expect(redactState(state)).toEqual({
      name: "dev",
      apiServerPort: 6443,
      config: {
        extraArgs: { "kube-apiserver": { "oidc-client-secret": "[redacted]", v: "2" } },
        nodes: [{ taints: [{ key: "a", value: "b" }] }],
      },
      note: "[redacted]",
    });
  });
});

describe("ssh arguments", () => {
  const node = (name: string, role: NodeInfo["role"]): NodeInfo => ({
    name,
    cluster: "dev",
    role,
    state: "running",
    ip: "",
    image: "",
    ports: [],
  });
  const nodes = [node("dev-control-plane", "control-plane"), node("dev-worker", "worker"), node("dev-worker2", "worker")];

  it("picks the first control plane, or a node by its name with or without the profile", () => {
    expect(pickNode(nodes, "dev").name).toBe("dev-control-plane");
    expect(pickNode(nodes, "dev", "worker2").name).toBe("dev-worker2");
    expect(pickNode(nodes, "dev", "dev-worker").name).toBe("dev-worker");
    expect(() => pickNode(nodes, "dev", "worker3")).toThrow(/cluster "dev" has no node "worker3"/);
  });

  it("takes what follows -- as the command", () => {
    const argv = (...a: string[]) => ["node", "kubeyard", "ssh", ...a];
    expect(splitNodeAndCommand(["sh", "-c", "exit 3"], argv("--", "sh", "-c", "exit 3"))).toEqual({
      node: undefined,
      command: ["sh", "-c", "exit 3"],
    });
    expect(splitNodeAndCommand(["worker", "ls"], argv("worker", "--", "ls"))).toEqual({ node: "worker", command: ["ls"] });
    expect(splitNodeAndCommand(["worker"], argv("worker"))).toEqual({ node: "worker", command: [] });
    expect(() => splitNodeAndCommand(["worker", "ls"], argv("worker", "ls"))).toThrow(/takes one node name, got worker ls/);
  });
});
