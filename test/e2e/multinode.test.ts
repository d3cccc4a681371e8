import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestUser, engineObjects } from "./helpers/cli.js";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { httpGet } from "./helpers/http-get.js";
import { apply, kubectlOk, rolledOut, waitFor } from "./helpers/kubectl.js";
import { TunnelProcess } from "./helpers/tunnel-process.js";
import { describeInnerLoop } from "./helpers/inner-loop-suite.js";
import { BUSYBOX } from "./helpers/node-images.js";
import { everyNodeWeb, podsOf as podsIn, wgetCommand, type PodPlace } from "./helpers/node-spread.js";

/*
 * A three-node cluster from a config file (one control plane, two workers with labels, one of them
 * tainted) with NetworkPolicy enforcement and a host folder mounted on every node: scheduling across
 * nodes, the pod network between them, the developer's inner loop (image build, cp, the mounted folder
 * in pods), and adding and removing nodes while it runs.
 */

const NS = "mn";
const CP_TAINT = "node-role.kubernetes.io/control-plane";

const user = new TestUser();
const configFile = path.join(user.home, "cluster.yaml");
writeFileSync(
  configFile,
  `apiVersion: kubeyard.dev/v1alpha1
kind: Cluster
nodes:
  - role: control-plane
  - role: worker
    labels: {tier: web}
  - role: worker
    labels: {tier: db}
    taints: [{key: dedicated, value: db, effect: NoSchedule}]
addons: [network-policy]
`,
);
// Every node mounts this host folder (start --mount); the inner-loop tests and node add use it.
const shared = { host: path.join(user.home, "shared"), node: "/shared" };
const sharedFile = { name: "hello.txt", content: `written on the host before start ${Math.random().toString(36).slice(2)}` };
mkdirSync(shared.host);
writeFileSync(path.join(shared.host, sharedFile.name), sharedFile.content);
const { profile } = clusterForFile("e2e-mn", {
  user,
  startArgs: ["--config", configFile, "--nodes", "3", "--mount", `${shared.host}:${shared.node}`],
  namespaces: [NS],
});
const cp = `${profile}-control-plane`;
const web = `${profile}-worker`;
const db = `${profile}-worker2`;

/** The body, or throws (refused, dropped, timed out). */
function fetchFrom(pod: string, url: string, namespace = NS): Promise<string> {
  return kubectlOk(user, "-n", namespace, "exec", pod, "--", ...wgetCommand(url));
}

async function canFetch(pod: string, url: string, namespace = NS): Promise<boolean> {
  const r = await user.kubectl(["-n", namespace, "exec", pod, "--", ...wgetCommand(url)]);
  return r.exitCode === 0;
}

function podsOf(selector: string, namespace = NS): Promise<PodPlace[]> {
  return podsIn(user, namespace, selector);
}

async function nodeOf(pod: string, namespace = NS): Promise<string> {
  return (await kubectlOk(user, "-n", namespace, "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")).trim();
}

/** A busybox pod serving its own name on 8080 (and able to wget), pinned by `placement` (YAML lines of the pod spec). */
function servingPod(name: string, labels: Record<string, string>, placement: string, namespace = NS): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}, labels: ${JSON.stringify(labels)}}
spec:
  terminationGracePeriodSeconds: 0
${placement}
  containers:
    - name: c
      image: ${BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
      readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;
}

/** What `kubectl get ds -n kube-system kube-proxy` shows as DESIRED and READY, once it has rolled out. */
async function kubeProxyDaemonSet(): Promise<{ desired: number; ready: number }> {
  await rolledOut(user, "kube-system", "daemonset/kube-proxy");
  const ds = JSON.parse(await kubectlOk(user, "-n", "kube-system", "get", "ds", "kube-proxy", "-o", "json")) as {
    status: { desiredNumberScheduled: number; numberReady: number };
  };
  return { desired: ds.status.desiredNumberScheduled, ready: ds.status.numberReady };
}

const onNode = (node: string) => `  nodeSelector: {kubernetes.io/hostname: ${node}}\n  tolerations: [{operator: Exists}]`;

describe("kubeyard start with three nodes from a config file", () => {
  it("has every node Ready, the control plane tainted, and the file's labels and taints on the workers", async () => {
    const out = await kubectlOk(user, "get", "nodes", "-o", "json");
    const nodes = (JSON.parse(out) as { items: NodeJson[] }).items;
    const byName = Object.fromEntries(nodes.map((n) => [n.metadata.name, n]));
    expect(Object.keys(byName).sort()).toEqual([cp, web, db].sort());
    for (const n of nodes) expect(n.status.conditions.find((c) => c.type === "Ready")?.status, n.metadata.name).toBe("True");
    expect(byName[cp]!.spec.taints).toEqual([{ key: CP_TAINT, effect: "NoSchedule" }]);
    expect(byName[web]!.spec.taints ?? []).toEqual([]);
    expect(byName[db]!.spec.taints).toEqual([{ key: "dedicated", value: "db", effect: "NoSchedule" }]);
    expect(byName[web]!.metadata.labels.tier).toBe("web");
    expect(byName[db]!.metadata.labels.tier).toBe("db");
    const list = await user.kubeyard(["node", "list", "-p", profile]);
    expect(list.exitCode, String(list.all)).toBe(0);
    for (const name of [cp, web, db]) expect(String(list.stdout)).toMatch(new RegExp(`${name}\\s+\\S+\\s+running`));
  });

  it("runs CoreDNS as upstream ships it: two available replicas on two nodes, and a disruption budget that keeps one", async () => {
    // The start waits for one replica (DNS answers then); the second follows.
    await eventually("both CoreDNS replicas to be available", async () => {
      const available = await kubectlOk(
        user,
        "-n",
        "kube-system",
        "get",
        "deployment",
        "coredns",
        "-o",
        "jsonpath={.status.availableReplicas}",
      );
      expect(available.trim()).toBe("2");
    });
    const dns = await podsOf("k8s-app=kube-dns", "kube-system");
    expect(dns).toHaveLength(2);
    // The tainted db worker is not one CoreDNS tolerates; the other two nodes hold one each.
    expect(dns.map((p) => p.node).sort()).toEqual([cp, web].sort());
    const pdb = JSON.parse(await kubectlOk(user, "-n", "kube-system", "get", "pdb", "coredns", "-o", "json")) as {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
      status: { currentHealthy: number; disruptionsAllowed: number };
    };
    expect(pdb.spec.selector.matchLabels).toEqual({ "k8s-app": "kube-dns" });
    expect(pdb.spec.minAvailable).toBe(1);
    await eventually("the CoreDNS budget to count both pods healthy", async () => {
      const status = JSON.parse(await kubectlOk(user, "-n", "kube-system", "get", "pdb", "coredns", "-o", "jsonpath={.status}")) as {
        currentHealthy: number;
        disruptionsAllowed: number;
      };
      expect(status).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1 });
    });
  });

  describe("kube-proxy, laid out as kubeadm installs it", () => {
    it("is the DaemonSet kube-system/kube-proxy with one ready pod on every node, the tainted ones included", async () => {
      expect(await kubeProxyDaemonSet()).toEqual({ desired: 3, ready: 3 });
      const pods = await podsOf("k8s-app=kube-proxy", "kube-system");
      expect(pods.map((p) => p.node).sort()).toEqual([cp, web, db].sort());
      const cm = JSON.parse(await kubectlOk(user, "-n", "kube-system", "get", "configmap", "kube-proxy", "-o", "json")) as {
        data: Record<string, string>;
      };
      expect(Object.keys(cm.data).sort()).toEqual(["config.conf", "kubeconfig.conf"]);
      // No node runs a kube-proxy of its own beside the pod.
      const sv = await execa("docker", ["exec", web, "test", "-e", "/etc/sv/kube-proxy"], { reject: false });
      expect(sv.exitCode).toBe(1);
    });

    it("logs where `kubectl logs` reads them", async () => {
      for (const pod of await podsOf("k8s-app=kube-proxy", "kube-system")) {
        const logs = await kubectlOk(user, "-n", "kube-system", "logs", pod.name);
        expect(logs, pod.node).toContain("Using iptables Proxier");
      }
    });
  });

  describe("a DaemonSet serving each node's pod name", () => {
    beforeAll(async () => {
      await apply(user, everyNodeWeb(NS));
      await rolledOut(user, NS, "daemonset/every");
    }, 300_000);

    it("runs one pod on every node", async () => {
      const pods = await podsOf("app=every");
      expect(pods.map((p) => p.node).sort()).toEqual([cp, web, db].sort());
    });

    it("lets a pod reach the pods of every other node directly, by pod IP", async () => {
      const pods = await podsOf("app=every");
      for (const from of pods) {
        for (const to of pods.filter((p) => p !== from)) {
          expect((await fetchFrom(from.name, `http://${to.ip}:8080/`)).trim(), `${from.node} -> ${to.node}`).toBe(to.name);
        }
      }
    });

    it("keeps the client pod's own address as the source of pod-to-pod traffic across nodes", async () => {
      const pods = await podsOf("app=every");
      const [a, b] = [pods.find((p) => p.node === web)!, pods.find((p) => p.node === db)!];
      await fetchFrom(a.name, `http://${b.ip}:8080/`);
      // httpd -v logs each client's address.
      const logs = await kubectlOk(user, "-n", NS, "logs", b.name);
      expect(logs).toContain(a.ip);
    });

    it("reaches the Service at its ClusterIP from a pod on every node", async () => {
      const clusterIP = (await kubectlOk(user, "-n", NS, "get", "service", "every", "-o", "jsonpath={.spec.clusterIP}")).trim();
      const pods = await podsOf("app=every");
      for (const from of pods) {
        const answer = await eventually(`${from.node} to reach ${clusterIP}`, () => fetchFrom(from.name, `http://${clusterIP}/`), {
          timeoutMs: 60_000,
        });
        expect(
          pods.map((p) => p.name),
          from.node,
        ).toContain(answer.trim());
      }
    });

    it("reaches the pods of every node through the Service", async () => {
      const pods = await podsOf("app=every");
      const client = pods.find((p) => p.node === web)!;
      const seen = new Set<string>();
      await eventually(
        "every web pod to answer through the Service",
        async () => {
          seen.add((await fetchFrom(client.name, `http://every.${NS}.svc.cluster.local/`)).trim());
          if (seen.size < 3) throw new Error(`only ${[...seen].join(", ")} answered so far`);
        },
        { timeoutMs: 120_000, intervalMs: 200 },
      );
      expect([...seen].sort()).toEqual(pods.map((p) => p.name).sort());
    });
  });

  describe("kubeyard tunnel across nodes", () => {
    let tunnel: TunnelProcess;
    const ingressOf = async (svc: string) =>
      eventually(
        `an EXTERNAL-IP on ${svc}`,
        async () => {
          const ip = (await kubectlOk(user, "-n", NS, "get", "svc", svc, "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")).trim();
          expect(ip, "status.loadBalancer.ingress[0].ip").not.toBe("");
          return ip;
        },
        { timeoutMs: 60_000 },
      );
    const tunnelAddressesOn = async (node: string) =>
      [
        ...String(
          (await user.kubeyard(["-p", profile, "ssh", node, "--", "ip", "-o", "-4", "addr", "show", "dev", "eth0", "label", "eth0:kyt"]))
            .stdout,
        ).matchAll(/inet (\S+)\/32/g),
      ].map((m) => m[1]);

    beforeAll(async () => {
      await apply(
        user,
        `${servingPod("solo", { app: "solo" }, onNode(db))}
---
apiVersion: v1
kind: Service
metadata: {name: every-lb, namespace: ${NS}}
spec:
  type: LoadBalancer
  selector: {app: every}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: solo-lb, namespace: ${NS}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: solo}
  ports: [{port: 80, targetPort: 8080}]
`,
      );
      await waitFor(user, NS, ["pod/solo", "--for=condition=Ready"]);
      tunnel = new TunnelProcess(user, profile);
    }, 300_000);

    afterAll(async () => {
      if (tunnel.proc.exitCode === null) await tunnel.stop("SIGINT");
    });

    it("reaches the pods of every node from the host through one LoadBalancer address", async () => {
      const ip = await ingressOf("every-lb");
      const want = (await podsOf("app=every")).map((p) => p.name).sort();
      const seen = new Set<string>();
      await eventually(
        "every web pod to answer through the tunnelled load balancer",
        async () => {
          seen.add((await httpGet(`http://${ip}/`)).body.trim());
          if (seen.size < 3) throw new Error(`only ${[...seen].join(", ")} answered so far`);
        },
        { timeoutMs: 120_000, intervalMs: 100 },
      );
      expect([...seen].sort()).toEqual(want);
    });

    it("puts a Local Service's address on the node that runs its pod, which answers", async () => {
      const ip = await ingressOf("solo-lb");
      await eventually(`${ip} to be on the db node`, async () => expect(await tunnelAddressesOn(db)).toContain(ip), { timeoutMs: 30_000 });
      await eventually(`${ip} to answer from the solo pod`, async () => expect((await httpGet(`http://${ip}/`)).body.trim()).toBe("solo"), {
        timeoutMs: 60_000,
      });
      expect(await tunnel.stop("SIGINT")).toBe(0);
      for (const node of [cp, web, db]) expect(await tunnelAddressesOn(node)).toEqual([]);
      await kubectlOk(user, "-n", NS, "delete", "svc", "every-lb", "solo-lb");
      await kubectlOk(user, "-n", NS, "delete", "pod", "solo");
    });
  });

  describe("a StatefulSet of 3 replicas", () => {
    beforeAll(async () => {
      await apply(
        user,
        `
apiVersion: v1
kind: Service
metadata: {name: db, namespace: ${NS}}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${NS}}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 0
      tolerations: [{operator: Exists}]
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: db}}}
      containers:
        - name: c
          image: ${BUSYBOX}
          imagePullPolicy: IfNotPresent
          command: [sh, -c, '[ -f /data/id ] || hostname > /data/id; exec httpd -f -p 8080 -h /data']
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 16Mi}}
`,
      );
      await rolledOut(user, NS, "statefulset/db", "300s");
    }, 400_000);

    it("spreads its pods over the three nodes, each with its own bound volume", async () => {
      const pods = await podsOf("app=db");
      expect(pods.map((p) => p.name).sort()).toEqual(["db-0", "db-1", "db-2"]);
      expect(new Set(pods.map((p) => p.node)).size).toBe(3);
      const pvcs = await kubectlOk(
        user,
        "-n",
        NS,
        "get",
        "pvc",
        "-o",
        'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}',
      );
      expect(pvcs.trim().split("\n").sort()).toEqual(["data-db-0=Bound", "data-db-1=Bound", "data-db-2=Bound"]);
    });

    it("answers at each replica's stable DNS name with what that replica wrote to its volume", async () => {
      const client = (await podsOf("app=every")).find((p) => p.node === web)!.name;
      for (const i of [0, 1, 2]) {
        const body = await eventually(
          `db-${i} to answer by its own name`,
          () => fetchFrom(client, `http://db-${i}.db.${NS}.svc.cluster.local:8080/id`),
          { timeoutMs: 60_000 },
        );
        expect(body.trim()).toBe(`db-${i}`);
      }
    });

    it("keeps a replica's volume when its pod is replaced", async () => {
      const uid = () => kubectlOk(user, "-n", NS, "get", "pod", "db-1", "-o", "jsonpath={.metadata.uid}");
      const before = await uid();
      await kubectlOk(user, "-n", NS, "delete", "pod", "db-1", "--wait=true");
      // `kubectl wait` fails at once on a pod that does not exist yet: the StatefulSet makes the new db-1 a moment later.
      await eventually(
        "the StatefulSet to make db-1 again",
        async () => {
          if ((await uid()) === before) throw new Error("db-1 is still the deleted pod");
        },
        { timeoutMs: 60_000 },
      );
      await waitFor(user, NS, ["pod/db-1", "--for=condition=Ready"], "180s");
      const client = (await podsOf("app=every")).find((p) => p.node === web)!.name;
      const body = await eventually(
        "db-1 to answer by its own name again",
        () => fetchFrom(client, `http://db-1.db.${NS}.svc.cluster.local:8080/id`),
        { timeoutMs: 60_000 },
      );
      expect(body.trim()).toBe("db-1");
    });
  });

  describe("scheduling by the config file's labels and taints", () => {
    beforeAll(async () => {
      const pod = (name: string, spec: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 0
${spec}
  containers: [{name: c, image: ${BUSYBOX}, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
---`;
      await apply(
        user,
        [
          pod("by-selector", "  nodeSelector: {tier: web}"),
          pod(
            "by-affinity",
            `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: tier, operator: In, values: [db]}]}]
  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]`,
          ),
          pod("untolerated", "  nodeSelector: {tier: db}"),
          pod("anywhere", ""),
        ].join("\n"),
      );
      await waitFor(user, NS, ["pod/by-selector", "pod/by-affinity", "pod/anywhere", "--for=condition=Ready"]);
    }, 300_000);

    it("puts a nodeSelector pod on the labelled worker", async () => {
      expect(await nodeOf("by-selector")).toBe(web);
    });

    it("puts a pod with node affinity and the matching toleration on the tainted worker", async () => {
      expect(await nodeOf("by-affinity")).toBe(db);
    });

    it("leaves a pod that does not tolerate the worker's taint unscheduled, saying why", async () => {
      await eventually(
        "the untolerated pod to be refused scheduling",
        async () => {
          const cond = await kubectlOk(
            user,
            "-n",
            NS,
            "get",
            "pod",
            "untolerated",
            "-o",
            'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}',
          );
          // The control plane and the db worker are tainted; the web worker lacks the label.
          expect(cond).toContain("1 node(s) didn't match Pod's node affinity/selector");
          expect(cond).toContain("2 node(s) had untolerated taint(s)");
        },
        { timeoutMs: 60_000 },
      );
      expect(await nodeOf("untolerated")).toBe("");
    });

    it("keeps a pod without tolerations off the control plane and the tainted worker", async () => {
      expect(await nodeOf("anywhere")).toBe(web);
    });
  });

  describe("NetworkPolicy", () => {
    const ns = "np";
    beforeAll(async () => {
      await kubectlOk(user, "create", "namespace", ns);
      await apply(
        user,
        [
          servingPod("server", { app: "server" }, onNode(web), ns),
          servingPod("friend", { role: "friend" }, onNode(cp), ns),
          servingPod("stranger", { role: "stranger" }, onNode(db), ns),
        ].join("\n---\n"),
      );
      await waitFor(user, ns, ["pod/server", "pod/friend", "pod/stranger", "--for=condition=Ready"]);
    }, 300_000);

    async function serverURL(): Promise<string> {
      return `http://${(await kubectlOk(user, "-n", ns, "get", "pod", "server", "-o", "jsonpath={.status.podIP}")).trim()}:8080/`;
    }

    it("lets every pod reach the server before any policy", async () => {
      const url = await serverURL();
      expect((await fetchFrom("friend", url, ns)).trim()).toBe("server");
      expect((await fetchFrom("stranger", url, ns)).trim()).toBe("server");
    });

    it("drops all traffic to the server under a default-deny policy", async () => {
      await apply(
        user,
        `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-deny","namespace":"${ns}"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`,
      );
      const url = await serverURL();
      await eventually(
        "the NetworkPolicy to cut both clients off",
        async () => {
          if (await canFetch("friend", url, ns)) throw new Error("friend still reaches the server");
          if (await canFetch("stranger", url, ns)) throw new Error("stranger still reaches the server");
        },
        { timeoutMs: 120_000 },
      );
    });

    it("then lets through only what an allow rule selects", async () => {
      await apply(
        user,
        `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-friend, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {role: friend}}}]
      ports: [{port: 8080, protocol: TCP}]
`,
      );
      const url = await serverURL();
      const body = await eventually("friend to reach the server", () => fetchFrom("friend", url, ns), { timeoutMs: 120_000 });
      expect(body.trim()).toBe("server");
      expect(await canFetch("stranger", url, ns)).toBe(false);
    });
  });

  describeInnerLoop(() => ({ user, profile, namespace: NS, nodes: [cp, web, db], mount: shared, mountedFile: sharedFile }));

  describe("kubeyard node add and node delete", () => {
    const added = `${profile}-worker3`;

    it("adds a worker that becomes Ready, runs the DaemonSet's pod and joins the pod network", async () => {
      const r = await user.kubeyard(["node", "add", "-p", profile]);
      expect(r.exitCode, String(r.all)).toBe(0);
      expect(String(r.stdout)).toContain(`node ${added} joined cluster "${profile}" and is Ready`);
      // A folder every node mounts (start --mount) is mounted on the new node too.
      const seen = await user.kubeyard(["ssh", "-p", profile, added, "--", "cat", `${shared.node}/${sharedFile.name}`]);
      expect(String(seen.stdout).trim(), String(seen.all)).toBe(sharedFile.content);
      await kubectlOk(user, "wait", "--for=condition=Ready", `node/${added}`, "--timeout=120s");
      await rolledOut(user, NS, "daemonset/every");
      expect(await kubeProxyDaemonSet()).toEqual({ desired: 4, ready: 4 });
      const proxies = await podsOf("k8s-app=kube-proxy", "kube-system");
      expect(proxies.map((p) => p.node).sort()).toEqual([cp, web, db, added].sort());
      const pods = await podsOf("app=every");
      expect(pods.map((p) => p.node).sort()).toEqual([cp, web, db, added].sort());
      const mine = pods.find((p) => p.node === added)!;
      const reached = (from: string, to: { name: string; ip: string }) =>
        eventually(`${from} to reach ${to.name}`, () => fetchFrom(from, `http://${to.ip}:8080/`), { timeoutMs: 60_000 });
      for (const other of pods.filter((p) => p !== mine)) {
        expect((await reached(mine.name, other)).trim()).toBe(other.name);
        expect((await reached(other.name, mine)).trim()).toBe(mine.name);
      }
      // Its own kube-proxy makes Services work from it.
      const viaService = await eventually(
        "the new node's pod to reach the Service",
        () => fetchFrom(mine.name, `http://every.${NS}.svc.cluster.local/`),
        {
          timeoutMs: 60_000,
        },
      );
      expect(pods.map((p) => p.name)).toContain(viaService.trim());
    }, 600_000);

    it("drains a node before deleting it: its pods are evicted, the node and its container are gone", async () => {
      await apply(
        user,
        `
apiVersion: apps/v1
kind: Deployment
metadata: {name: pinned, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: pinned}}
  template:
    metadata: {labels: {app: pinned}}
    spec:
      terminationGracePeriodSeconds: 0
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [${added}]}]}
      containers: [{name: c, image: ${BUSYBOX}, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
`,
      );
      await rolledOut(user, NS, "deployment/pinned");
      const before = (await podsOf("app=pinned"))[0]!;
      expect(before.node).toBe(added);

      const r = await user.kubeyard(["node", "delete", added, "-p", profile]);
      expect(r.exitCode, String(r.all)).toBe(0);
      const nodes = await kubectlOk(user, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}");
      expect(nodes.split(" ").sort()).toEqual([cp, web, db].sort());
      // The Deployment's pod was evicted and replaced elsewhere.
      await rolledOut(user, NS, "deployment/pinned");
      const after = (await podsOf("app=pinned"))[0]!;
      expect(after.name).not.toBe(before.name);
      expect(after.node).not.toBe(added);
      const containers = (await engineObjects(profile)).containers;
      expect(containers).not.toContain(added);
      expect((await execa("docker", ["volume", "ls", "-q", "--filter", `name=${added}-var`])).stdout.trim()).toBe("");
      await rolledOut(user, NS, "daemonset/every");
      expect((await podsOf("app=every")).map((p) => p.node).sort()).toEqual([cp, web, db].sort());
      expect(await kubeProxyDaemonSet()).toEqual({ desired: 3, ready: 3 });
    }, 600_000);

    it("refuses to delete a node the cluster does not have, or its only control plane", async () => {
      const missing = await user.kubeyard(["node", "delete", `${profile}-nope`, "-p", profile]);
      expect(missing.exitCode).not.toBe(0);
      expect(String(missing.stderr)).toContain(`cluster "${profile}" has no node named "${profile}-nope"`);
      const only = await user.kubeyard(["node", "delete", cp, "-p", profile]);
      expect(only.exitCode).not.toBe(0);
      expect(String(only.stderr)).toContain(`${cp} is the cluster's only control plane`);
      const role = await user.kubeyard(["node", "add", "--role", "etcd", "-p", profile]);
      expect(role.exitCode).not.toBe(0);
      expect(String(role.stderr)).toContain(`--role: "etcd" is not a role a node can be added with.`);
    });
  });
});

interface NodeJson {
  metadata: { name: string; labels: Record<string, string> };
  spec: { taints?: { key: string; value?: string; effect: string }[] };
  status: { conditions: { type: string; status: string }[] };
}
