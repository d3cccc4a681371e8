import { execa } from "execa";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KUBERNETES_VERSION } from "../../src/versions/versions.js";
import { engineObjects } from "./helpers/cli.js";
import { clusterForFile, suiteRuntime } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { httpGet } from "./helpers/http-get.js";
import { apply, applySleeper, kubectlOk, rolledOut, waitFor } from "./helpers/kubectl.js";
import { portForward } from "./helpers/port-forward.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * What a user sees after `kubeyard start`: one cluster for the whole file, driven only through the
 * CLI and a real kubectl against the kubeconfig kubeyard wrote.
 */

const NS = "e2e";
/** Nodes report versions with the "v"; kubeyard's version table has them without. */
const VERSION = `v${DEFAULT_KUBERNETES_VERSION.replace(/^v/, "")}`;
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

const { user, profile, started } = clusterForFile("e2e-work", { namespaces: [NS] });

/** Runs a command in a pod (or `deploy/NAME`) of the test namespace; returns stdout, throws on failure. */
function exec(target: string, ...cmd: string[]): Promise<string> {
  return kubectlOk(user, "-n", NS, "exec", target, "--", ...cmd);
}

function token(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

describe("kubeyard start: what a user sees", () => {
  it("says the cluster is ready, makes its context current, and the node is Ready at the default version", async () => {
    const lastLine = String(started().stdout).trim().split("\n").at(-1);
    expect(lastLine).toBe(`cluster "${profile}" is ready (Kubernetes ${VERSION}); kubectl now uses context "${profile}"`);

    const kubeconfig = parseYaml(readFileSync(user.kubeconfig, "utf8")) as { "current-context": string };
    expect(kubeconfig["current-context"]).toBe(profile);
    expect((await kubectlOk(user, "config", "current-context")).trim()).toBe(profile);

    const table = await kubectlOk(user, "get", "nodes", "--no-headers");
    const rows = table
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/));
    expect(rows).toHaveLength(1);
    const [name, status, , , version] = rows[0]!;
    expect({ name, status, version }).toEqual({ name: `${profile}-control-plane`, status: "Ready", version: VERSION });
  });

  it("runs the runtime it was started with: kubectl, status and node list name it with its version", async () => {
    const runtime = suiteRuntime();
    const wide = await kubectlOk(user, "get", "nodes", "-o", "wide", "--no-headers");
    expect(wide.trim().split(/\s+/).at(-1)).toMatch(new RegExp(`^${runtime}://\\d+\\.\\d+\\.\\d+`));
    const status = JSON.parse(String((await user.kubeyard(["-p", profile, "status", "-o", "json"])).stdout)) as {
      nodes: { runtime: { name: string; version?: string } }[];
    };
    const nodes = JSON.parse(String((await user.kubeyard(["-p", profile, "node", "list", "-o", "json"])).stdout)) as typeof status.nodes;
    for (const n of [...status.nodes, ...nodes]) {
      expect(n.runtime.name).toBe(runtime);
      expect(n.runtime.version).toMatch(/^\d+\.\d+\.\d+/);
    }
    expect(wide).toContain(`${runtime}://${nodes[0]!.runtime.version}`);
  });

  it("refuses to start the cluster again with the other runtime, and changes nothing", async () => {
    const other = suiteRuntime() === "containerd" ? "cri-o" : "containerd";
    const before = await engineObjects(profile);
    const r = await user.kubeyard(["start", "-p", profile, "--container-runtime", other]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain(
      `cluster "${profile}" runs ${suiteRuntime()}; --container-runtime (or containerRuntime) asks for ${other}`,
    );
    expect(await engineObjects(profile)).toEqual(before);
    expect((await user.kubeyard(["-p", profile, "status"])).exitCode).toBe(0);
  });

  it("runs the control plane as the node's static pods, listed in kube-system as kubeadm's are, with logs and descriptions", async () => {
    const node = `${profile}-control-plane`;
    const components = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
    type Pod = {
      metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
      spec: { nodeName: string; hostNetwork: boolean; priorityClassName: string; containers: { image: string }[] };
      status: { phase: string };
    };
    const pods = await eventually(
      "the control plane's mirror pods to run",
      async () => {
        const list = JSON.parse(await kubectlOk(user, "-n", "kube-system", "get", "pods", "-l", "tier=control-plane", "-o", "json"));
        const items = (list as { items: Pod[] }).items;
        expect(items.map((p) => `${p.metadata.name} ${p.status.phase}`).sort()).toEqual(components.map((c) => `${c}-${node} Running`));
        return items;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    for (const pod of pods) {
      const component = pod.metadata.labels.component!;
      expect(pod.metadata.name).toBe(`${component}-${node}`);
      expect(pod.metadata.annotations["kubernetes.io/config.mirror"], "a mirror pod").toBeDefined();
      expect(pod.spec).toMatchObject({ nodeName: node, hostNetwork: true, priorityClassName: "system-node-critical" });
      expect(pod.spec.containers[0]!.image).toMatch(new RegExp(`^registry\\.k8s\\.io/${component}:`));
    }
    expect(await kubectlOk(user, "-n", "kube-system", "logs", `kube-apiserver-${node}`, "--tail=200")).toMatch(/Serving securely|serving/i);
    expect(await kubectlOk(user, "-n", "kube-system", "describe", "pod", `etcd-${node}`)).toMatch(/Status:\s+Running/);
  });

  describe("a Deployment of a preloaded image", () => {
    const content = token("served");

    beforeAll(async () => {
      await apply(
        user,
        `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: httpd
          image: ${BUSYBOX}
          imagePullPolicy: IfNotPresent
          env: [{name: CONTENT, value: "${content}"}]
          command: [sh, -c]
          args:
            - |
              mkdir -p /www && echo "$CONTENT" > /www/index.html
              echo "web: serving $CONTENT on 8080"
              exec httpd -f -p 8080 -h /www
          ports: [{containerPort: 8080}]
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`,
      );
      await rolledOut(user, NS, "deployment/web");
    }, 300_000);

    it("runs, and kubectl logs shows its output", async () => {
      const logs = await kubectlOk(user, "-n", NS, "logs", "deployment/web");
      expect(logs).toContain(`web: serving ${content} on 8080`);
    });

    it("runs a command with kubectl exec", async () => {
      const pod = (await kubectlOk(user, "-n", NS, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")).trim();
      const out = await exec("deployment/web", "sh", "-c", "echo $((6 * 7)) $(hostname); cat /www/index.html");
      expect(out.trim().split("\n")).toEqual([`42 ${pod}`, content]);
    });

    it("serves its content to the host through kubectl port-forward", async () => {
      const pf = await portForward(user, NS, "deployment/web", 8080);
      try {
        const res = await httpGet(`http://127.0.0.1:${pf.port}/index.html`);
        expect(res).toEqual({ status: 200, body: `${content}\n` });
      } finally {
        await pf.close();
      }
    });

    it("is found through CoreDNS by its Service's name and answers over HTTP", async () => {
      await apply(
        user,
        `
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: client
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sleep, "3600"]
`,
      );
      await waitFor(user, NS, ["pod/client", "--for=condition=Ready"]);
      const ip = async (ns: string, svc: string) =>
        (await kubectlOk(user, "-n", ns, "get", "svc", svc, "-o", "jsonpath={.spec.clusterIP}")).trim();
      const [dnsIP, apiIP, webIP] = await Promise.all([ip("kube-system", "kube-dns"), ip("default", "kubernetes"), ip(NS, "web")]);

      const api = await exec("client", "nslookup", "kubernetes.default.svc.cluster.local");
      // The answer comes from the cluster's DNS Service and names the API server's ClusterIP.
      expect(api).toMatch(new RegExp(`Server:\\s+${dnsIP.replaceAll(".", "\\.")}\\b`));
      expect(api).toMatch(new RegExp(`Address:\\s+${apiIP.replaceAll(".", "\\.")}\\b`));

      const web = await exec("client", "nslookup", `web.${NS}.svc.cluster.local`);
      expect(web).toMatch(new RegExp(`Name:\\s+web\\.${NS}\\.svc\\.cluster\\.local`));
      expect(web).toMatch(new RegExp(`Address:\\s+${webIP.replaceAll(".", "\\.")}\\b`));

      // The short name resolves through the pod's DNS search path, as an application would use it.
      // (`timeout` rather than wget's own -T: Debian's static busybox wget crashes with -T.)
      expect(await exec("client", "timeout", "10", "wget", "-qO-", "http://web/index.html")).toBe(content);
    });

    it("refuses a connection to a port the Service does not have, or to an address no Service holds, as a cluster network does", async () => {
      // Nothing routes the Service range: what kube-proxy does not translate must not leave the node for the host's network.
      const attempt = (url: string) => exec("client", "sh", "-c", `timeout 10 wget -qO- ${url} 2>&1; echo "exit $?"`);
      const wrongPort = await attempt("http://web:81/");
      expect(wrongPort).toContain("Connection refused");
      const unused = await attempt("http://10.96.255.254:80/");
      expect(unused).toMatch(/Connection refused|No route to host/);
    });
  });

  it("binds a claim on the default StorageClass once a pod uses it, and keeps its data for the next pod", async () => {
    const data = token("kept");
    await apply(
      user,
      `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${NS}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`,
    );
    const defaultClass = (
      await kubectlOk(
        user,
        "get",
        "storageclass",
        "-o",
        `jsonpath={.items[?(@.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class=="true")].metadata.name}`,
      )
    ).trim();
    expect(defaultClass).not.toBe("");
    const claim = JSON.parse(await kubectlOk(user, "-n", NS, "get", "pvc", "data", "-o", "json")) as {
      spec: { storageClassName?: string };
      status: { phase: string };
    };
    expect(claim.spec.storageClassName).toBe(defaultClass);
    // The class binds on first use: nothing is provisioned before a pod needs it.
    expect(claim.status.phase).toBe("Pending");

    const pod = (name: string, script: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}}
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sh, -c, '${script}']
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`;
    await apply(user, pod("writer", `echo ${data} > /data/note.txt && sync`));
    await waitFor(user, NS, ["pvc/data", "--for=jsonpath={.status.phase}=Bound"]);
    await waitFor(user, NS, ["pod/writer", "--for=jsonpath={.status.phase}=Succeeded"]);
    await kubectlOk(user, "-n", NS, "delete", "pod", "writer", "--wait=true");

    await apply(user, pod("reader", "cat /data/note.txt"));
    await waitFor(user, NS, ["pod/reader", "--for=jsonpath={.status.phase}=Succeeded"]);
    expect(await kubectlOk(user, "-n", NS, "logs", "reader")).toBe(data);
  }, 300_000);

  // Minutes under emulation (the host matrix's VM legs): loading the 150 MB image into the node, then each `kubectl exec`.
  it("lets a pod use its service account token against the API server, within what RBAC grants", async () => {
    // The pod runs kubectl (the node's own, mounted in) without a kubeconfig: it then reaches the API server
    // as every in-cluster client does, at the kubernetes Service's address from the pod's environment, with
    // the token its ServiceAccount mounted, verifying the server against the mounted CA.
    await apply(
      user,
      `
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: api-client, namespace: ${NS}}
spec:
  serviceAccountName: reader
  terminationGracePeriodSeconds: 0
  containers:
    - name: main
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sleep, "3600"]
      volumeMounts: [{name: kubectl, mountPath: /usr/local/bin/kubectl, readOnly: true}]
  volumes:
    - {name: kubectl, hostPath: {path: /usr/local/bin/kubectl, type: File}}
`,
    );
    await waitFor(user, NS, ["pod/api-client", "--for=condition=Ready"]);
    const mounted = await exec("api-client", "ls", SA_DIR);
    expect(mounted.split(/\s+/).filter(Boolean).sort()).toEqual(["ca.crt", "namespace", "token"]);

    /**
     * A raw request from the pod, as its ServiceAccount: what the API server answered (body, or kubectl's
     * error). Bounded by busybox's timeout: a flag such as --request-timeout would make kubectl's config
     * other than the default, and only the default one falls back to the in-cluster credentials.
     */
    const call = async (verb: "get" | "delete", apiPath: string): Promise<{ ok: boolean; out: string }> => {
      const r = await user.kubectl([
        "-n",
        NS,
        "exec",
        "api-client",
        "--",
        "timeout",
        "30",
        "/usr/local/bin/kubectl",
        verb,
        "--raw",
        apiPath,
      ]);
      return { ok: r.exitCode === 0, out: String(r.all) };
    };
    const pods = `/api/v1/namespaces/${NS}/pods`;
    const forbidden = (what: string) => new RegExp(`Forbidden.*User "system:serviceaccount:${NS}:reader" cannot ${what}`);

    // Authenticated as the pod's ServiceAccount, but not yet authorized.
    const before = await call("get", pods);
    expect(before.ok, before.out).toBe(false);
    expect(before.out).toMatch(forbidden(`list resource "pods"`));

    await apply(
      user,
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ${NS}}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-reads-pods, namespace: ${NS}}
subjects: [{kind: ServiceAccount, name: reader, namespace: ${NS}}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
`,
    );
    // The authorizer learns of the binding through its informers, a moment after it is stored.
    const list = await eventually(
      "the API server to list pods for the pod's ServiceAccount",
      async () => {
        const r = await call("get", pods);
        expect(r.ok, r.out).toBe(true);
        return r.out;
      },
      { timeoutMs: 60_000 },
    );
    const names = (JSON.parse(list) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
    expect(names).toContain("api-client");

    // What the Role does not grant stays denied.
    expect((await call("get", `/api/v1/namespaces/${NS}/secrets`)).out).toMatch(forbidden(`list resource "secrets"`));
    expect((await call("delete", `${pods}/api-client`)).out).toMatch(forbidden(`delete resource "pods"`));
    expect((await kubectlOk(user, "-n", NS, "get", "pod", "api-client", "-o", "jsonpath={.metadata.deletionTimestamp}")).trim()).toBe("");
  }, 300_000);

  it("answers DNS between pods of one node where the host has no bridge netfiltering (current Docker, Podman)", async () => {
    // This host's engine loaded br_netfilter; Docker 27.3+ and Podman do not. The node is made to look
    // like such a host (bridge netfiltering off, its sysctls hidden), then its pod-network hook runs as at
    // boot. On a host that is one already (a rootless engine, which cannot load the module), the node is
    // left as it is.
    const node = `${profile}-control-plane`;
    const inNode = (script: string) => execa("docker", ["exec", node, "bash", "-c", script]);
    await applySleeper(user, NS, "nf-client", BUSYBOX);
    await waitFor(user, NS, ["pod/nf-client", "--for=condition=Ready"]);
    const hook = "/etc/kubeyard/boot.d/10-pod-network";
    const sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    const simulated = await inNode(`test -e ${sysctl}`).then(
      () => true,
      () => false,
    );
    if (simulated) await inNode(`echo 0 > ${sysctl} && mount -t tmpfs none /proc/sys/net/bridge && ${hook}`);
    try {
      const answer = await exec("nf-client", "timeout", "30", "nslookup", "kubernetes.default.svc.cluster.local");
      expect(answer).toMatch(/Address:\s+10\.96\.0\.1\b/);
    } finally {
      if (simulated) await inNode(`umount /proc/sys/net/bridge && echo 1 > ${sysctl} && ${hook}`);
    }
    // 105 s in this machine's VM leg, where each of the hook's iptables calls runs emulated.
  }, 300_000);
});
