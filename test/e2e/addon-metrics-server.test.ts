import { describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { apply, kubectlOk, rolledOut } from "./helpers/kubectl.js";
import { BUSYBOX } from "./helpers/node-images.js";

/*
 * The metrics-server addon does its job: `kubectl top` returns figures for nodes and pods, and a
 * HorizontalPodAutoscaler on CPU sees its metric. Enabled through `start --addons`, disabled again
 * through `addons disable`, which removes exactly what it created.
 */

const NS = "e2e";
const { user, profile } = clusterForFile("e2e-ms", { startArgs: ["--addons", "metrics-server"], namespaces: [NS] });

describe("the metrics-server addon", () => {
  it("is listed as enabled", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "list", "-o", "json"]);
    const rows = JSON.parse(String(r.stdout)) as { name: string; enabled: boolean }[];
    expect(rows.find((x) => x.name === "metrics-server")?.enabled).toBe(true);
  });

  it("makes kubectl top report CPU and memory of the node and of pods", async () => {
    // The first figures exist once metrics-server has scraped the kubelet twice.
    const nodes = await eventually("kubectl top nodes", () => kubectlOk(user, "top", "nodes", "--no-headers"), {
      timeoutMs: 120_000,
      intervalMs: 2_000,
    });
    const [name, cpu, , memory] = nodes.trim().split(/\s+/);
    expect(name).toBe(`${profile}-control-plane`);
    expect(cpu).toMatch(/^\d+m$/);
    expect(memory).toMatch(/^\d+Mi$/);
    const pods = await eventually("kubectl top pods", () => kubectlOk(user, "top", "pods", "-n", "kube-system", "--no-headers"), {
      timeoutMs: 120_000,
      intervalMs: 2_000,
    });
    expect(pods).toMatch(/^coredns-\S+\s+\d+m\s+\d+Mi/m);
  });

  it("gives a HorizontalPodAutoscaler on CPU its current metric", async () => {
    await apply(
      user,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: busy, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: busy}}
  template:
    metadata: {labels: {app: busy}}
    spec:
      containers:
        - name: busy
          image: ${BUSYBOX}
          imagePullPolicy: IfNotPresent
          # Burns a CPU while /tmp/burn exists, so the test can switch the load on and off.
          command: [sh, -c, "while :; do [ -e /tmp/burn ] || sleep 1; done"]
          resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: busy, namespace: ${NS}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: busy}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    # Scaling down waits five minutes by default; the test wants to see it happen.
    scaleDown:
      stabilizationWindowSeconds: 0
      policies: [{type: Percent, value: 100, periodSeconds: 15}]
`,
    );
    await rolledOut(user, NS, "deployment/busy");
    const utilization = await eventually(
      "a CPU metric on the HorizontalPodAutoscaler",
      async () => {
        const out = await kubectlOk(
          user,
          "-n",
          NS,
          "get",
          "hpa",
          "busy",
          "-o",
          "jsonpath={.status.currentMetrics[0].resource.current.averageUtilization}",
        );
        if (!/^\d+$/.test(out.trim())) throw new Error(`no CPU metric on the HPA yet: "${out}"`);
        return Number(out.trim());
      },
      { timeoutMs: 180_000, intervalMs: 3_000 },
    );
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThan(50);
  });

  it("lets the HorizontalPodAutoscaler scale the Deployment up under load and back down", async () => {
    const pod = (await kubectlOk(user, "-n", NS, "get", "pods", "-l", "app=busy", "-o", "jsonpath={.items[0].metadata.name}")).trim();
    await kubectlOk(user, "-n", NS, "exec", pod, "--", "touch", "/tmp/burn");
    const replicas = () => kubectlOk(user, "-n", NS, "get", "deployment", "busy", "-o", "jsonpath={.spec.replicas}");
    const up = await eventually(
      "the HorizontalPodAutoscaler to scale up",
      async () => {
        const n = Number((await replicas()).trim());
        if (n < 2) throw new Error(`still ${n} replica(s)`);
        return n;
      },
      { timeoutMs: 240_000, intervalMs: 3_000 },
    );
    expect(up).toBeGreaterThanOrEqual(2);
    expect(up).toBeLessThanOrEqual(3);

    await kubectlOk(user, "-n", NS, "exec", pod, "--", "rm", "/tmp/burn");
    await eventually(
      "the HorizontalPodAutoscaler to scale back down",
      async () => {
        const n = Number((await replicas()).trim());
        if (n !== 1) throw new Error(`still ${n} replicas`);
      },
      { timeoutMs: 300_000, intervalMs: 3_000 },
    );
  }, 600_000);

  it("is removed by addons disable, with nothing else touched", async () => {
    const r = await user.kubeyard(["-p", profile, "addons", "disable", "metrics-server"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    const apiservices = await kubectlOk(user, "get", "apiservices", "-o", "name");
    expect(apiservices).not.toContain("v1beta1.metrics.k8s.io");
    const deployments = await kubectlOk(user, "-n", "kube-system", "get", "deployments", "-o", "name");
    expect(deployments).not.toContain("metrics-server");
    expect(deployments).toContain("coredns");
    const top = await user.kubectl(["top", "nodes"]);
    expect(top.exitCode).not.toBe(0);
  });
});
