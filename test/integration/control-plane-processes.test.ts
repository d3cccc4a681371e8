import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import https from "node:https";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";
import {
  componentArgs,
  componentKubeconfig,
  componentsFor,
  kubeControllerManagerArgs,
  kubeSchedulerArgs,
  kubeSchedulerConfig,
  pathsOf,
  type ComponentContext,
} from "../../src/components/index.js";
import { freePorts, startLocalControlPlane, type ControlPlaneProcess, type LocalControlPlane } from "../helpers/local-control-plane.js";

/**
 * etcd and kube-apiserver, with the flags src/components renders, started as plain processes on
 * 127.0.0.1 from the cached binaries: the rendered flags must bring up a control plane that serves
 * TLS with the kubeyard PKI, reaches etcd over mutual TLS, and refuses anonymous callers.
 */

const versions = findVersion(DEFAULT_KUBERNETES_VERSION)!;
const READY_WITHIN_MS = 180_000;

interface Response {
  status: number;
  body: string;
}

function get(port: number, urlPath: string, tls: { ca: string; cert?: string; key?: string }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path: urlPath, method: "GET", ...tls, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

describe("etcd and kube-apiserver as plain processes", () => {
  let cp: LocalControlPlane;
  let ctx: ComponentContext;
  let admin: LocalControlPlane["admin"];
  const apiServer = () => Number(new URL(cp.server).port);

  beforeAll(async () => {
    cp = await startLocalControlPlane("cp-processes");
    ({ ctx, admin } = cp);
  }, READY_WITHIN_MS + 60_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  it("is ready, with etcd reached over TLS", async () => {
    const res = await get(apiServer(), "/readyz?verbose", admin);
    expect(res.status).toBe(200);
    expect(res.body).toContain("[+]etcd ok");
  });

  it("reports the Kubernetes version it was built as", async () => {
    const res = await get(apiServer(), "/version", admin);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).gitVersion).toBe(`v${versions.kubernetes}`);
  });

  it("rejects a caller without a client certificate with 401", async () => {
    const res = await get(apiServer(), "/api", { ca: admin.ca });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ kind: "Status", reason: "Unauthorized" });
  });

  it("lets the admin identity list namespaces", async () => {
    const res = await get(apiServer(), "/api/v1/namespaces", admin);
    expect(res.status).toBe(200);
    const names = (JSON.parse(res.body).items as { metadata: { name: string } }[]).map((n) => n.metadata.name);
    expect(names).toContain("kube-system");
  });

  /** Starts the controller manager and scheduler of `context`, with serving ports off the defaults. */
  async function startControllers(context: ComponentContext): Promise<ControlPlaneProcess[]> {
    const [cmPort, schedPort] = await freePorts(2);
    // Their serving ports moved off the defaults so that nothing else on the machine is in the way.
    const withPorts: ComponentContext = {
      ...context,
      cluster: {
        ...context.cluster,
        extraArgs: {
          ...context.cluster.extraArgs,
          "kube-controller-manager": { "secure-port": String(cmPort) },
          "kube-scheduler": { "secure-port": String(schedPort) },
        },
      },
    };
    for (const identity of ["controller-manager", "scheduler"] as const) {
      await writeFile(pathsOf(withPorts).kubeconfig(identity), componentKubeconfig(withPorts, identity), { mode: 0o600 });
    }
    await writeFile(pathsOf(withPorts).schedulerConfig, kubeSchedulerConfig(withPorts));
    const bin = (name: string) => path.join(cp.binaries.kubernetes, name);
    return [
      cp.spawn("kube-controller-manager", bin("kube-controller-manager"), kubeControllerManagerArgs(withPorts)),
      cp.spawn("kube-scheduler", bin("kube-scheduler"), kubeSchedulerArgs(withPorts)),
    ];
  }

  const leaseHolder = async (lease: string) => {
    const res = await get(apiServer(), `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease}`, admin);
    return res.status === 200 ? (JSON.parse(res.body).spec?.holderIdentity as string | undefined) : undefined;
  };

  it(
    "with one control plane, runs the controller manager's controllers at once, each as its own service account, electing no leader",
    async () => {
      const started = await startControllers(ctx);
      // use-service-account-credentials: the controller manager makes each controller's service
      // account with its own identity, which RBAC allows it and nobody else but an admin.
      await cp.until("the deployment-controller service account", async () => {
        const res = await get(apiServer(), "/api/v1/namespaces/kube-system/serviceaccounts/deployment-controller", admin);
        expect(res.status, res.body).toBe(200);
      });
      expect(await leaseHolder("kube-controller-manager")).toBeUndefined();
      expect(await leaseHolder("kube-scheduler")).toBeUndefined();
      for (const p of started) await p.stop();
    },
    READY_WITHIN_MS + 60_000,
  );

  it(
    "with several control planes, brings up the controller manager and scheduler, which take their leader leases as themselves",
    async () => {
      // A second member, never started: only the controller manager's and scheduler's flags read it.
      const several: ComponentContext = { ...ctx, controlPlanes: [...ctx.controlPlanes, { name: "other-control-plane", ip: "127.0.0.3" }] };
      const started = await startControllers(several);
      const holders = new Map<string, string>();
      await cp.until("both leader leases to be taken", async () => {
        for (const lease of ["kube-controller-manager", "kube-scheduler"]) {
          const holder = await leaseHolder(lease);
          if (holder) holders.set(lease, holder);
        }
        expect([...holders.keys()], "leases held").toHaveLength(2);
      });
      // A held lease shows each one reached the API server with its kubeconfig's certificate and
      // that RBAC let it write its lease, which only its own identity (or an admin) may.
      expect([...holders.keys()].sort()).toEqual(["kube-controller-manager", "kube-scheduler"]);
      for (const p of started) await p.stop();
    },
    READY_WITHIN_MS + 60_000,
  );

  it("renders only flags that the cached binaries know", async () => {
    const run = promisify(execFile);
    const known = async (binary: string) => {
      // etcd prints its help to stderr, the Kubernetes components to stdout.
      const { stdout, stderr } = await run(binary, ["--help"], { maxBuffer: 16 * 1024 * 1024 });
      return new Set([...`${stdout}\n${stderr}`.matchAll(/^\s+--([a-z0-9][a-z0-9-]*)/gm)].map((m) => m[1]!));
    };
    const unknown: string[] = [];
    for (const component of componentsFor("control-plane")) {
      const dirOf = component === "etcd" ? cp.binaries.etcd : cp.binaries.kubernetes;
      const flags = await known(path.join(dirOf, component));
      for (const arg of componentArgs(ctx, component)) {
        const name = /^--([^=]+)=/.exec(arg)![1]!;
        if (!flags.has(name)) unknown.push(`${component} --${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
