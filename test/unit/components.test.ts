import jsYaml from "js-yaml";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import {
  argsFile,
  cniConflist,
  componentKubeconfig,
  componentsFor,
  containerdConfig,
  crioConfig,
  etcdArgs,
  featureGatesValue,
  kubeApiserverArgs,
  kubeControllerManagerArgs,
  kubeletArgs,
  kubeletConfig,
  kubeProxyConfig,
  kubeProxyObjects,
  kubeSchedulerArgs,
  kubeSchedulerConfig,
  nodeFiles,
  nodePodCIDR,
  splitNodeLabels,
  staticPodManifest,
  type ClusterSettings,
  type ComponentContext,
} from "../../src/components/index.js";
import { resolveConfig } from "../../src/config/index.js";
import { staticPodImages } from "../../src/cluster/topology.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion, imageRefs } from "../../src/versions/versions.js";
import { UserError } from "../../src/util/errors.js";

const noExtraArgs = {
  etcd: {},
  "kube-apiserver": {},
  "kube-controller-manager": {},
  "kube-scheduler": {},
  kubelet: {},
  "kube-proxy": {},
};

function cluster(overrides: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    name: "dev",
    networking: {
      ipFamily: "ipv4",
      podSubnet: "10.244.0.0/16",
      serviceSubnet: "10.96.0.0/12",
      dnsDomain: "cluster.local",
      dnsServiceIP: "10.96.0.10",
      kubernetesServiceIP: "10.96.0.1",
      nodeCidrMaskSize: 24,
      apiServerAddress: "127.0.0.1",
      apiServerPort: 0,
    },
    featureGates: {},
    extraArgs: noExtraArgs,
    containerRuntime: null,
    ...overrides,
  };
}

const controlPlanes = [
  { name: "dev-control-plane", ip: "172.18.0.2" },
  { name: "dev-control-plane2", ip: "172.18.0.3" },
  { name: "dev-control-plane3", ip: "172.18.0.4" },
];

function controlPlaneCtx(overrides: Partial<ComponentContext> = {}): ComponentContext {
  return {
    cluster: cluster(),
    node: {
      name: "dev-control-plane",
      role: "control-plane",
      ip: "172.18.0.2",
      podCIDR: "10.244.0.0/24",
      cgroupRoot: "/kubeyard/dev-control-plane",
      labels: { "node-role.kubernetes.io/control-plane": "", tier: "web" },
      taints: [{ key: "node-role.kubernetes.io/control-plane", value: "", effect: "NoSchedule" }],
    },
    controlPlanes: controlPlanes.slice(0, 1),
    apiServerEndpoint: "https://172.18.0.2:6443",
    images: staticPodImages(findVersion(DEFAULT_KUBERNETES_VERSION)!),
    ...overrides,
  };
}

function workerCtx(overrides: Partial<ComponentContext> = {}): ComponentContext {
  return controlPlaneCtx({
    node: {
      name: "dev-worker",
      role: "worker",
      ip: "172.18.0.5",
      podCIDR: "10.244.3.0/24",
      cgroupRoot: "/kubeyard/dev-worker",
      labels: { tier: "db", "node.kubernetes.io/instance-type": "small", "topology.kubernetes.io/zone": "a" },
      taints: [{ key: "dedicated", value: "db", effect: "NoExecute" }],
    },
    ...overrides,
  });
}

/** The arguments as a map from flag name to value; every argument must have the --name=value form. */
function flagMap(args: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const arg of args) {
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    expect(m, `argument ${arg} has the --name=value form`).not.toBeNull();
    expect(map.has(m![1]!), `flag --${m![1]} is given once`).toBe(false);
    map.set(m![1]!, m![2]!);
  }
  return map;
}

describe("etcd", () => {
  it("serves clients and peers over TLS with client certificates required", () => {
    const f = flagMap(etcdArgs(controlPlaneCtx()));
    expect(f.get("name")).toBe("dev-control-plane");
    expect(f.get("data-dir")).toBe("/var/lib/etcd");
    expect(f.get("client-cert-auth")).toBe("true");
    expect(f.get("peer-client-cert-auth")).toBe("true");
    expect(f.get("trusted-ca-file")).toBe("/etc/kubernetes/pki/etcd/ca.crt");
    expect(f.get("peer-trusted-ca-file")).toBe("/etc/kubernetes/pki/etcd/ca.crt");
    expect(f.get("cert-file")).toBe("/etc/kubernetes/pki/etcd/dev-control-plane/server.crt");
    expect(f.get("key-file")).toBe("/etc/kubernetes/pki/etcd/dev-control-plane/server.key");
    expect(f.get("peer-cert-file")).toBe("/etc/kubernetes/pki/etcd/dev-control-plane/peer.crt");
    expect(f.get("peer-key-file")).toBe("/etc/kubernetes/pki/etcd/dev-control-plane/peer.key");
    expect(f.get("listen-client-urls")).toBe("https://127.0.0.1:2379,https://172.18.0.2:2379");
    expect(f.get("advertise-client-urls")).toBe("https://172.18.0.2:2379");
    expect(f.get("listen-peer-urls")).toBe("https://172.18.0.2:2380");
    expect(f.get("listen-metrics-urls")).toBe("http://127.0.0.1:2381");
    expect(f.get("initial-cluster")).toBe("dev-control-plane=https://172.18.0.2:2380");
    expect(f.get("initial-cluster-state")).toBe("new");
    expect(f.get("snapshot-count")).toBe("10000");
    expect(Number(f.get("quota-backend-bytes"))).toBeGreaterThan(2 * 1024 ** 3);
  });

  it("uses no flag etcd 3.7 removed and never gives up durability", () => {
    const args = etcdArgs(controlPlaneCtx());
    expect(args.filter((a) => a.startsWith("--experimental"))).toEqual([]);
    expect(args.some((a) => a.startsWith("--unsafe"))).toBe(false);
    expect(flagMap(args).get("feature-gates")).toBe("InitialCorruptCheck=true");
  });

  it("lists every control plane as an initial member, and listens once on loopback when the node IP is loopback", () => {
    const ha = flagMap(
      etcdArgs(controlPlaneCtx({ controlPlanes, node: { ...controlPlaneCtx().node, name: "dev-control-plane2", ip: "172.18.0.3" } })),
    );
    expect(ha.get("initial-cluster")).toBe(
      "dev-control-plane=https://172.18.0.2:2380,dev-control-plane2=https://172.18.0.3:2380,dev-control-plane3=https://172.18.0.4:2380",
    );
    expect(ha.get("name")).toBe("dev-control-plane2");
    expect(ha.get("cert-file")).toBe("/etc/kubernetes/pki/etcd/dev-control-plane2/server.crt");

    const local = controlPlaneCtx({ controlPlanes: [{ name: "dev-control-plane", ip: "127.0.0.1" }] });
    local.node = { ...local.node, ip: "127.0.0.1" };
    expect(flagMap(etcdArgs(local)).get("listen-client-urls")).toBe("https://127.0.0.1:2379");
  });

  it("brackets IPv6 addresses in URLs", () => {
    const ctx = controlPlaneCtx({ controlPlanes: [{ name: "dev-control-plane", ip: "fd00::2" }] });
    ctx.node = { ...ctx.node, ip: "fd00::2" };
    const f = flagMap(etcdArgs(ctx));
    expect(f.get("listen-peer-urls")).toBe("https://[fd00::2]:2380");
    expect(f.get("initial-cluster")).toBe("dev-control-plane=https://[fd00::2]:2380");
  });

  it("follows overridden ports and layout, and joins an existing cluster when told to", () => {
    const f = flagMap(
      etcdArgs(
        controlPlaneCtx({
          ports: { etcdClient: 32379, etcdPeer: 32380, etcdMetrics: 32381 },
          layout: { etcdDataDir: "/tmp/x/etcd", pkiDir: "/tmp/x/pki" },
          etcdInitialClusterState: "existing",
        }),
      ),
    );
    expect(f.get("advertise-client-urls")).toBe("https://172.18.0.2:32379");
    expect(f.get("listen-peer-urls")).toBe("https://172.18.0.2:32380");
    expect(f.get("listen-metrics-urls")).toBe("http://127.0.0.1:32381");
    expect(f.get("data-dir")).toBe("/tmp/x/etcd");
    expect(f.get("trusted-ca-file")).toBe("/tmp/x/pki/etcd/ca.crt");
    expect(f.get("initial-cluster-state")).toBe("existing");
  });

  it("refuses to render for a node that is not a control plane", () => {
    expect(() => etcdArgs(workerCtx())).toThrow(/not among the control planes/);
  });

  it("does not hand Kubernetes feature gates to etcd", () => {
    const f = flagMap(etcdArgs(controlPlaneCtx({ cluster: cluster({ featureGates: { SomeKubeGate: true } }) })));
    expect(f.get("feature-gates")).toBe("InitialCorruptCheck=true");
  });
});

describe("kube-apiserver", () => {
  it("has the flags a secure, aggregation-ready API server needs", () => {
    const f = flagMap(kubeApiserverArgs(controlPlaneCtx()));
    expect(f.get("advertise-address")).toBe("172.18.0.2");
    expect(f.get("secure-port")).toBe("6443");
    expect(f.get("etcd-servers")).toBe("https://127.0.0.1:2379");
    expect(f.get("etcd-cafile")).toBe("/etc/kubernetes/pki/etcd/ca.crt");
    expect(f.get("etcd-certfile")).toBe("/etc/kubernetes/pki/apiserver-etcd-client.crt");
    expect(f.get("etcd-keyfile")).toBe("/etc/kubernetes/pki/apiserver-etcd-client.key");
    expect(f.get("authorization-mode")).toBe("Node,RBAC");
    expect(f.get("enable-admission-plugins")).toBe("NodeRestriction");
    expect(f.get("service-account-issuer")).toBe("https://kubernetes.default.svc.cluster.local");
    expect(f.get("service-account-key-file")).toBe("/etc/kubernetes/pki/sa.pub");
    expect(f.get("service-account-signing-key-file")).toBe("/etc/kubernetes/pki/sa.key");
    expect(f.get("service-cluster-ip-range")).toBe("10.96.0.0/12");
    expect(f.get("client-ca-file")).toBe("/etc/kubernetes/pki/ca.crt");
    expect(f.get("tls-cert-file")).toBe("/etc/kubernetes/pki/apiserver.crt");
    expect(f.get("tls-private-key-file")).toBe("/etc/kubernetes/pki/apiserver.key");
    expect(f.get("kubelet-client-certificate")).toBe("/etc/kubernetes/pki/apiserver-kubelet-client.crt");
    expect(f.get("kubelet-client-key")).toBe("/etc/kubernetes/pki/apiserver-kubelet-client.key");
    expect(f.get("kubelet-preferred-address-types")).toBe("InternalIP,Hostname");
    expect(f.get("requestheader-client-ca-file")).toBe("/etc/kubernetes/pki/front-proxy-ca.crt");
    expect(f.get("requestheader-allowed-names")).toBe("front-proxy-client");
    expect(f.get("requestheader-username-headers")).toBe("X-Remote-User");
    expect(f.get("requestheader-group-headers")).toBe("X-Remote-Group");
    expect(f.get("requestheader-extra-headers-prefix")).toBe("X-Remote-Extra-");
    expect(f.get("proxy-client-cert-file")).toBe("/etc/kubernetes/pki/front-proxy-client.crt");
    expect(f.get("proxy-client-key-file")).toBe("/etc/kubernetes/pki/front-proxy-client.key");
    expect(f.get("enable-aggregator-routing")).toBe("true");
    expect(f.get("allow-privileged")).toBe("true");
    expect(f.get("profiling")).toBe("false");
    expect(f.get("anonymous-auth")).toBe("false");
    expect(f.has("feature-gates")).toBe(false);
  });

  it("keeps no kubernetes Service endpoint only when it advertises a loopback address", () => {
    expect(flagMap(kubeApiserverArgs(controlPlaneCtx())).has("endpoint-reconciler-type")).toBe(false);
    for (const ip of ["127.0.0.1", "127.1.2.3", "::1"]) {
      const ctx = controlPlaneCtx({ controlPlanes: [{ name: "dev-control-plane", ip }] });
      ctx.node = { ...ctx.node, ip };
      const f = flagMap(kubeApiserverArgs(ctx));
      expect(f.get("endpoint-reconciler-type"), ip).toBe("none");
      expect(f.get("advertise-address")).toBe(ip);
    }
  });

  it("takes the service-account issuer from the DNS domain", () => {
    const base = cluster();
    const ctx = controlPlaneCtx({ cluster: { ...base, networking: { ...base.networking, dnsDomain: "corp.example" } } });
    expect(flagMap(kubeApiserverArgs(ctx)).get("service-account-issuer")).toBe("https://kubernetes.default.svc.corp.example");
  });

  it("renders feature gates sorted, as A=true,B=false", () => {
    const ctx = controlPlaneCtx({ cluster: cluster({ featureGates: { ZetaGate: false, AlphaGate: true } }) });
    expect(flagMap(kubeApiserverArgs(ctx)).get("feature-gates")).toBe("AlphaGate=true,ZetaGate=false");
    expect(flagMap(kubeControllerManagerArgs(ctx)).get("feature-gates")).toBe("AlphaGate=true,ZetaGate=false");
    expect(flagMap(kubeSchedulerArgs(ctx)).get("feature-gates")).toBe("AlphaGate=true,ZetaGate=false");
    expect(featureGatesValue({})).toBeUndefined();
  });

  it("lets extraArgs replace a flag in place and add new ones at the end", () => {
    const ctx = controlPlaneCtx({
      cluster: cluster({ extraArgs: { ...noExtraArgs, "kube-apiserver": { "authorization-mode": "RBAC", v: "4" } } }),
    });
    const args = kubeApiserverArgs(ctx);
    const plain = kubeApiserverArgs(controlPlaneCtx());
    expect(args.length).toBe(plain.length + 1);
    expect(args[plain.indexOf("--authorization-mode=Node,RBAC")]).toBe("--authorization-mode=RBAC");
    expect(args.at(-1)).toBe("--v=4");
    expect(args).not.toContain("--authorization-mode=Node,RBAC");
  });

  it("lets extraArgs feature-gates win over the cluster's feature gates", () => {
    const ctx = controlPlaneCtx({
      cluster: cluster({ featureGates: { A: true }, extraArgs: { ...noExtraArgs, "kube-apiserver": { "feature-gates": "B=true" } } }),
    });
    expect(flagMap(kubeApiserverArgs(ctx)).get("feature-gates")).toBe("B=true");
  });

  it("rejects extra args that would break the one-argument-per-line file", () => {
    const withValue = controlPlaneCtx({
      cluster: cluster({ extraArgs: { ...noExtraArgs, "kube-apiserver": { v: "2\n--anonymous-auth=true" } } }),
    });
    expect(() => kubeApiserverArgs(withValue)).toThrow(UserError);
    const withName = controlPlaneCtx({ cluster: cluster({ extraArgs: { ...noExtraArgs, "kube-apiserver": { "--v": "2" } } }) });
    expect(() => kubeApiserverArgs(withName)).toThrow(/invalid flag name "--v"/);
  });
});

describe("kube-controller-manager and kube-scheduler", () => {
  it("allocates node pod ranges and signs with the cluster CA", () => {
    const f = flagMap(kubeControllerManagerArgs(controlPlaneCtx()));
    expect(f.get("kubeconfig")).toBe("/etc/kubernetes/controller-manager.conf");
    expect(f.get("allocate-node-cidrs")).toBe("true");
    expect(f.get("cluster-cidr")).toBe("10.244.0.0/16");
    expect(f.get("node-cidr-mask-size")).toBe("24");
    expect(f.get("service-cluster-ip-range")).toBe("10.96.0.0/12");
    expect(f.get("cluster-signing-cert-file")).toBe("/etc/kubernetes/pki/ca.crt");
    expect(f.get("cluster-signing-key-file")).toBe("/etc/kubernetes/pki/ca.key");
    expect(f.get("root-ca-file")).toBe("/etc/kubernetes/pki/ca.crt");
    expect(f.get("service-account-private-key-file")).toBe("/etc/kubernetes/pki/sa.key");
    expect(f.get("use-service-account-credentials")).toBe("true");
    expect(f.get("controllers")).toBe("*,bootstrap-signer-controller,token-cleaner-controller");
    expect(f.get("leader-elect")).toBe("false");
  });

  it("elects a leader among several control planes, and not with one", () => {
    const ha = controlPlaneCtx({ controlPlanes });
    expect(flagMap(kubeControllerManagerArgs(ha)).get("leader-elect")).toBe("true");
    expect((jsYaml.load(kubeSchedulerConfig(ha)) as Record<string, any>).leaderElection.leaderElect).toBe(true);
    expect((jsYaml.load(kubeSchedulerConfig(controlPlaneCtx())) as Record<string, any>).leaderElection.leaderElect).toBe(false);
  });

  it("takes the node range size from the networking config", () => {
    const base = cluster();
    const ctx = controlPlaneCtx({ cluster: { ...base, networking: { ...base.networking, nodeCidrMaskSize: 26 } } });
    expect(flagMap(kubeControllerManagerArgs(ctx)).get("node-cidr-mask-size")).toBe("26");
  });

  it("configures the scheduler through its config file with its own identity", () => {
    const f = flagMap(kubeSchedulerArgs(controlPlaneCtx()));
    expect(f.get("config")).toBe("/etc/kubernetes/kube-scheduler-config.yaml");
    expect(f.get("authentication-kubeconfig")).toBe("/etc/kubernetes/scheduler.conf");
    const config = jsYaml.load(kubeSchedulerConfig(controlPlaneCtx())) as Record<string, any>;
    expect(config.apiVersion).toBe("kubescheduler.config.k8s.io/v1");
    expect(config.kind).toBe("KubeSchedulerConfiguration");
    expect(config.clientConnection.kubeconfig).toBe("/etc/kubernetes/scheduler.conf");
  });
});

describe("kubelet", () => {
  it("writes a KubeletConfiguration with the node's certificates, cgroup root and cluster DNS", () => {
    const config = jsYaml.load(kubeletConfig(workerCtx())) as Record<string, any>;
    expect(config.apiVersion).toBe("kubelet.config.k8s.io/v1beta1");
    expect(config.kind).toBe("KubeletConfiguration");
    expect(config.authentication.x509.clientCAFile).toBe("/etc/kubernetes/pki/ca.crt");
    expect(config.authentication.webhook.enabled).toBe(true);
    expect(config.authentication.anonymous.enabled).toBe(false);
    expect(config.authorization.mode).toBe("Webhook");
    expect(config.tlsCertFile).toBe("/etc/kubernetes/pki/nodes/dev-worker/kubelet.crt");
    expect(config.tlsPrivateKeyFile).toBe("/etc/kubernetes/pki/nodes/dev-worker/kubelet.key");
    expect(config.cgroupDriver).toBe("cgroupfs");
    expect(config.cgroupRoot).toBe("/kubeyard/dev-worker");
    expect(config.failCgroupV1).toBe(false);
    expect(config.clusterDNS).toEqual(["10.96.0.10"]);
    expect(config.clusterDomain).toBe("cluster.local");
    expect(config.containerRuntimeEndpoint).toBe("unix:///run/containerd/containerd.sock");
    expect(config.failSwapOn).toBe(false);
    expect(config.imageGCHighThresholdPercent).toBe(100);
    expect(config.evictionHard["nodefs.available"]).toBe("0%");
    expect(config.evictionHard["imagefs.available"]).toBe("0%");
    expect(config.protectKernelDefaults).toBe(false);
    expect(config.serializeImagePulls).toBe(false);
    expect(config.rotateCertificates).toBe(false);
    expect(config.resolvConf).toBe("/etc/resolv.conf");
    expect(config.registerWithTaints).toEqual([{ key: "dedicated", value: "db", effect: "NoExecute" }]);
    expect(config.featureGates).toBeUndefined();
  });

  it("gives two nodes different cgroup roots and uses a node's own resolv.conf when given", () => {
    const a = jsYaml.load(kubeletConfig(workerCtx())) as Record<string, any>;
    const b = jsYaml.load(kubeletConfig(controlPlaneCtx())) as Record<string, any>;
    expect(a.cgroupRoot).not.toBe(b.cgroupRoot);
    const ctx = workerCtx();
    ctx.node = { ...ctx.node, resolvConf: "/etc/kubeyard/resolv.conf" };
    expect((jsYaml.load(kubeletConfig(ctx)) as Record<string, any>).resolvConf).toBe("/etc/kubeyard/resolv.conf");
  });

  it("puts feature gates in the config file, not on the command line", () => {
    const ctx = workerCtx({ cluster: cluster({ featureGates: { A: true, B: false } }) });
    const config = jsYaml.load(kubeletConfig(ctx)) as Record<string, any>;
    expect(config.featureGates).toEqual({ A: true, B: false });
    expect(kubeletArgs(ctx).some((a) => a.startsWith("--feature-gates"))).toBe(false);
  });

  it("omits a taint's empty value", () => {
    const config = jsYaml.load(kubeletConfig(controlPlaneCtx())) as Record<string, any>;
    expect(config.registerWithTaints).toEqual([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
  });

  it("passes only flags without a config field, and only labels the kubelet may set itself", () => {
    const f = flagMap(kubeletArgs(controlPlaneCtx()));
    expect([...f.keys()].sort()).toEqual(["config", "hostname-override", "kubeconfig", "node-ip", "node-labels"]);
    expect(f.get("config")).toBe("/etc/kubernetes/kubelet-config.yaml");
    expect(f.get("kubeconfig")).toBe("/etc/kubernetes/kubelet.conf");
    expect(f.get("node-ip")).toBe("172.18.0.2");
    expect(f.get("hostname-override")).toBe("dev-control-plane");
    expect(f.get("node-labels")).toBe("tier=web");

    const worker = flagMap(kubeletArgs(workerCtx()));
    expect(worker.get("node-labels")).toBe("node.kubernetes.io/instance-type=small,tier=db,topology.kubernetes.io/zone=a");
  });

  it("splits labels by what NodeRestriction and the kubelet allow", () => {
    const { kubelet, viaApi } = splitNodeLabels({
      "node-role.kubernetes.io/control-plane": "",
      "node-role.kubernetes.io/worker": "",
      "node-restriction.kubernetes.io/pool": "a",
      "example.k8s.io/x": "1",
      "kubelet.kubernetes.io/x": "1",
      "sub.node.kubernetes.io/x": "1",
      "kubernetes.io/hostname": "n",
      "example.com/team": "a",
      plain: "b",
    });
    expect(Object.keys(viaApi).sort()).toEqual([
      "example.k8s.io/x",
      "node-restriction.kubernetes.io/pool",
      "node-role.kubernetes.io/control-plane",
      "node-role.kubernetes.io/worker",
    ]);
    expect(Object.keys(kubelet).sort()).toEqual([
      "example.com/team",
      "kubelet.kubernetes.io/x",
      "kubernetes.io/hostname",
      "plain",
      "sub.node.kubernetes.io/x",
    ]);
  });

  it("leaves out --node-labels when there is nothing the kubelet may set", () => {
    const ctx = controlPlaneCtx();
    ctx.node = { ...ctx.node, labels: { "node-role.kubernetes.io/control-plane": "" } };
    expect(flagMap(kubeletArgs(ctx)).has("node-labels")).toBe(false);
  });

  it("adds the user's extra kubelet flags", () => {
    const ctx = workerCtx({ cluster: cluster({ extraArgs: { ...noExtraArgs, kubelet: { v: "3", "node-ip": "172.18.0.9" } } }) });
    const f = flagMap(kubeletArgs(ctx));
    expect(f.get("v")).toBe("3");
    expect(f.get("node-ip")).toBe("172.18.0.9");
  });
});

describe("kube-proxy", () => {
  it("writes a KubeProxyConfiguration in iptables mode that leaves the host's conntrack alone", () => {
    const config = jsYaml.load(kubeProxyConfig(cluster({ featureGates: { G: true } }))) as Record<string, any>;
    expect(config.apiVersion).toBe("kubeproxy.config.k8s.io/v1alpha1");
    expect(config.kind).toBe("KubeProxyConfiguration");
    expect(config.mode).toBe("iptables");
    expect(config.clusterCIDR).toBe("10.244.0.0/16");
    expect(config.clientConnection.kubeconfig).toBe("/var/lib/kube-proxy/kubeconfig.conf");
    expect(config.conntrack).toEqual({ maxPerCore: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" });
    expect(config.featureGates).toEqual({ G: true });
  });

  const objects = (extraArgs = {}) =>
    kubeProxyObjects({
      cluster: cluster({ extraArgs: { ...noExtraArgs, "kube-proxy": extraArgs } }),
      apiServerEndpoint: "https://172.18.0.2:6443",
      image: "registry.k8s.io/kube-proxy:v1.37.1",
    });
  const find = (kind: string) => objects().find((o) => o.kind === kind) as Record<string, any>;

  it("is laid out as kubeadm installs it: ServiceAccount, node-proxier binding, ConfigMap and DaemonSet in kube-system", () => {
    expect(objects().map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual([
      "ServiceAccount kube-system/kube-proxy",
      "ClusterRoleBinding /kubeadm:node-proxier",
      "ConfigMap kube-system/kube-proxy",
      "DaemonSet kube-system/kube-proxy",
    ]);
    const binding = find("ClusterRoleBinding");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node-proxier" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "kube-proxy", namespace: "kube-system" }]);
    expect(find("DaemonSet").metadata.labels).toEqual({ "k8s-app": "kube-proxy" });
  });

  it("gives kube-proxy the service account's token and CA for the nodes' API server address, not a Service address", () => {
    const cm = find("ConfigMap");
    expect(jsYaml.load(cm.data["config.conf"])).toMatchObject({ kind: "KubeProxyConfiguration", mode: "iptables" });
    const kubeconfig = jsYaml.load(cm.data["kubeconfig.conf"]) as Record<string, any>;
    expect(kubeconfig.clusters[0].cluster).toEqual({
      server: "https://172.18.0.2:6443",
      "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    });
    expect(kubeconfig.users[0].user).toEqual({ tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
    expect(kubeconfig.contexts[0].name).toBe(kubeconfig["current-context"]);
  });

  it("runs on every node whatever its taints: host network, privileged, node-critical, with the xtables lock and modules", () => {
    const pod = find("DaemonSet").spec.template.spec;
    expect(pod).toMatchObject({ hostNetwork: true, priorityClassName: "system-node-critical", serviceAccountName: "kube-proxy" });
    expect(pod.tolerations).toContainEqual({ operator: "Exists" });
    const [c] = pod.containers;
    expect(c.image).toBe("registry.k8s.io/kube-proxy:v1.37.1");
    expect(c.securityContext).toEqual({ privileged: true });
    expect(c.command).toEqual([
      "/usr/local/bin/kube-proxy",
      "--config=/var/lib/kube-proxy/config.conf",
      "--hostname-override=$(NODE_NAME)",
    ]);
    expect(c.env).toEqual([{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual([
      "/var/lib/kube-proxy",
      "/run/xtables.lock",
      "/lib/modules",
    ]);
    expect(pod.volumes).toContainEqual({ name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } });
  });

  it("passes the config's extra args to kube-proxy", () => {
    const ds = objects({ v: "4", "hostname-override": "x" }).find((o) => o.kind === "DaemonSet") as Record<string, any>;
    expect(ds.spec.template.spec.containers[0].command.slice(1)).toEqual([
      "--config=/var/lib/kube-proxy/config.conf",
      "--hostname-override=x",
      "--v=4",
    ]);
  });
});

describe("kubeconfigs", () => {
  it("refer to the PKI by path and point each identity at the right server", () => {
    const ctx = controlPlaneCtx({ apiServerEndpoint: "https://172.18.0.2:6443", ports: { apiServer: 7443 } });
    const load = (id: Parameters<typeof componentKubeconfig>[1]) => jsYaml.load(componentKubeconfig(ctx, id)) as Record<string, any>;

    const kubelet = load("kubelet");
    expect(kubelet.kind).toBe("Config");
    expect(kubelet.clusters[0].cluster).toEqual({
      server: "https://172.18.0.2:6443",
      "certificate-authority": "/etc/kubernetes/pki/ca.crt",
    });
    expect(kubelet.users[0]).toEqual({
      name: "system:node:dev-control-plane",
      user: {
        "client-certificate": "/etc/kubernetes/pki/nodes/dev-control-plane/kubelet-client.crt",
        "client-key": "/etc/kubernetes/pki/nodes/dev-control-plane/kubelet-client.key",
      },
    });
    expect(kubelet.contexts[0].name).toBe(kubelet["current-context"]);

    const cm = load("controller-manager");
    expect(cm.clusters[0].cluster.server).toBe("https://172.18.0.2:7443");
    expect(cm.users[0].user["client-certificate"]).toBe("/etc/kubernetes/pki/identities/controller-manager.crt");
    expect(load("scheduler").users[0].user["client-key"]).toBe("/etc/kubernetes/pki/identities/scheduler.key");
    expect(load("admin").users[0].user["client-certificate"]).toBe("/etc/kubernetes/pki/identities/admin.crt");
    expect(load("admin").clusters[0].name).toBe("dev");
  });
});

describe("CNI", () => {
  it("is a valid conflist: a bridge with host-local addresses from the node's range, then portmap", () => {
    const conf = JSON.parse(cniConflist("10.244.3.0/24"));
    expect(conf.cniVersion).toBe("1.0.0");
    expect(conf.name).toBe("kubeyard");
    const [bridge, portmap] = conf.plugins;
    expect(bridge).toMatchObject({ type: "bridge", isGateway: true, ipMasq: false, hairpinMode: true });
    expect(bridge.ipam.type).toBe("host-local");
    expect(bridge.ipam.ranges).toEqual([[{ subnet: "10.244.3.0/24" }]]);
    expect(bridge.ipam.routes).toEqual([{ dst: "0.0.0.0/0" }]);
    expect(portmap).toEqual({ type: "portmap", capabilities: { portMappings: true }, snat: true });
    expect(conf.plugins).toHaveLength(2);
  });

  it("routes IPv6 pod ranges by the IPv6 default route and rejects a malformed range", () => {
    expect(JSON.parse(cniConflist("fd00:10:244:1::/64")).plugins[0].ipam.routes).toEqual([{ dst: "::/0" }]);
    expect(() => cniConflist("10.244.3.1/24")).toThrow(/host bits/);
  });

  it("numbers node pod ranges the way the range allocator does", () => {
    expect(nodePodCIDR("10.244.0.0/16", 24, 0)).toBe("10.244.0.0/24");
    expect(nodePodCIDR("10.244.0.0/16", 24, 3)).toBe("10.244.3.0/24");
    expect(nodePodCIDR("10.244.0.0/16", 24, 255)).toBe("10.244.255.0/24");
    expect(() => nodePodCIDR("10.244.0.0/16", 24, 256)).toThrow(/256 ranges/);
    expect(nodePodCIDR("fd00:10:244::/56", 64, 2)).toBe("fd00:10:244:2::/64");
  });
});

describe("static pods", () => {
  it("runs each control-plane component as kubeadm does: on the host network, node-critical, labelled, from its upstream-named image", () => {
    const ctx = controlPlaneCtx();
    for (const [component, args] of [
      ["etcd", etcdArgs(ctx)],
      ["kube-apiserver", kubeApiserverArgs(ctx)],
      ["kube-controller-manager", kubeControllerManagerArgs(ctx)],
      ["kube-scheduler", kubeSchedulerArgs(ctx)],
    ] as const) {
      const pod = staticPodManifest(ctx, component, args) as Record<string, any>;
      expect(pod.metadata).toEqual({ name: component, namespace: "kube-system", labels: { component, tier: "control-plane" } });
      expect(pod.spec.hostNetwork).toBe(true);
      expect(pod.spec.priorityClassName).toBe("system-node-critical");
      const [container] = pod.spec.containers;
      expect(container.image).toMatch(new RegExp(`^registry\\.k8s\\.io/${component}:v?\\d`));
      expect(container.command).toEqual([`/usr/local/bin/${component}`, ...args]);
      // Every file its flags name is inside a folder it mounts from the node.
      const mounted = container.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
      for (const arg of args) {
        const file = /^--[^=]+=(\/etc\/kubernetes\/\S+|\/var\/lib\/etcd)$/.exec(arg)?.[1];
        if (file)
          expect(
            mounted.some((dir: string) => file.startsWith(dir)),
            `${component} ${arg}`,
          ).toBe(true);
      }
    }
    const etcd = staticPodManifest(ctx, "etcd", etcdArgs(ctx)) as Record<string, any>;
    expect(etcd.spec.volumes).toContainEqual({ name: "etcd-data", hostPath: { path: "/var/lib/etcd", type: "DirectoryOrCreate" } });
    expect(etcd.spec.containers[0].volumeMounts).toContainEqual({ name: "etcd-data", mountPath: "/var/lib/etcd", readOnly: false });
  });

  it("stages a control plane's manifests for kubeyard to place, and gives a worker none", () => {
    const staged = nodeFiles(controlPlaneCtx())
      .map((f) => f.path)
      .filter((p) => p.includes("manifests"));
    expect(staged.sort()).toEqual(
      ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((c) => `/etc/kubeyard/manifests/${c}.yaml`),
    );
    const kubelet = jsYaml.load(kubeletConfig(controlPlaneCtx())) as Record<string, any>;
    expect(kubelet.staticPodPath).toBe("/etc/kubernetes/manifests");
    expect(() => nodeFiles(controlPlaneCtx({ images: undefined }))).toThrow(/needs the control plane's images/);
    expect(nodeFiles(workerCtx({ images: undefined })).some((f) => f.path.includes("manifests"))).toBe(false);
  });
});

describe("node files", () => {
  it("gives a control plane every component and a worker only the kubelet (kube-proxy is a DaemonSet's pod)", () => {
    expect(componentsFor("control-plane")).toEqual(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"]);
    expect(componentsFor("worker")).toEqual(["kubelet"]);

    const worker = nodeFiles(workerCtx()).map((f) => f.path);
    expect(worker.sort()).toEqual(
      [
        "/etc/cni/net.d/10-kubeyard.conflist",
        "/etc/kubernetes/kubelet-config.yaml",
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubeyard/args/kubelet",
      ].sort(),
    );
  });

  it("writes kubeconfigs private, the kubelet's args one per line, and each static pod's arguments one per command item", () => {
    const files = nodeFiles(controlPlaneCtx());
    for (const f of files.filter((f) => f.path.endsWith(".conf"))) expect(f.mode, f.path).toBe(0o600);
    const kubelet = files.find((f) => f.path === "/etc/kubeyard/args/kubelet")!;
    expect(kubelet.content).toBe(argsFile(kubeletArgs(controlPlaneCtx())));
    expect(kubelet.content.endsWith("\n")).toBe(true);
    expect(kubelet.content.trimEnd().split("\n")).toEqual(kubeletArgs(controlPlaneCtx()));
    const apiserver = files.find((f) => f.path === "/etc/kubeyard/manifests/kube-apiserver.yaml")!;
    const pod = jsYaml.load(apiserver.content) as Record<string, any>;
    expect(pod.spec.containers[0].command).toEqual(["/usr/local/bin/kube-apiserver", ...kubeApiserverArgs(controlPlaneCtx())]);
    expect(files.map((f) => f.path)).toContain("/etc/kubernetes/admin.conf");
    expect(files.map((f) => f.path).filter((p) => p.startsWith("/etc/kubeyard/args/"))).toEqual(["/etc/kubeyard/args/kubelet"]);
  });

  it("renders from a ClusterConfig as resolveConfig makes it", async () => {
    const config = await resolveConfig({ flags: { profile: "unit", nodes: 2 } });
    const [cp, worker] = config.nodes;
    const ctx: ComponentContext = {
      cluster: config,
      node: {
        ...worker!,
        ip: "172.18.0.3",
        podCIDR: nodePodCIDR(config.networking.podSubnet, config.networking.nodeCidrMaskSize, 1),
        cgroupRoot: "/kubeyard/w",
      },
      controlPlanes: [{ name: cp!.name, ip: "172.18.0.2" }],
      apiServerEndpoint: "https://172.18.0.2:6443",
      images: staticPodImages(config.versions),
    };
    const cni = JSON.parse(cniConflist(ctx.node.podCIDR));
    expect(cni.plugins[0].ipam.ranges[0][0].subnet).toBe("10.244.1.0/24");
    const kubelet = jsYaml.load(kubeletConfig(ctx)) as Record<string, any>;
    expect(kubelet.clusterDNS).toEqual([config.networking.dnsServiceIP]);
    expect(
      nodeFiles({ ...ctx, node: { ...cp!, ip: "172.18.0.2", podCIDR: "10.244.0.0/24", cgroupRoot: "/kubeyard/cp" } }).length,
    ).toBeGreaterThan(10);
  });
});

describe("the node's CRI runtime", () => {
  it("points the kubelet at CRI-O's socket on a cri-o cluster and at containerd's otherwise", () => {
    const endpoint = (ctx: ComponentContext) =>
      (jsYaml.load(kubeletConfig(ctx)) as { containerRuntimeEndpoint: string }).containerRuntimeEndpoint;
    expect(endpoint(workerCtx({ cluster: cluster({ containerRuntime: "cri-o" }) }))).toBe("unix:///var/run/crio/crio.sock");
    expect(endpoint(workerCtx({ cluster: cluster({ containerRuntime: "containerd" }) }))).toBe("unix:///run/containerd/containerd.sock");
    expect(endpoint(workerCtx())).toBe("unix:///run/containerd/containerd.sock");
  });

  it("renders a containerd config (version 3) with cgroupfs, the version's pause image pinned and registry hosts from certs.d", () => {
    const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
    const conf = parseToml(containerdConfig(v)) as Record<string, any>;
    expect(conf.version).toBe(3);
    expect(conf.grpc.address).toBe("/run/containerd/containerd.sock");
    const images = conf.plugins["io.containerd.cri.v1.images"];
    expect(images.pinned_images.sandbox).toBe(imageRefs(v).pause);
    expect(images.registry.config_path).toBe("/etc/containerd/certs.d");
    const runtime = conf.plugins["io.containerd.cri.v1.runtime"];
    expect(runtime.restrict_oom_score_adj).toBe(true);
    expect(runtime.containerd.runtimes.runc.options.SystemdCgroup).toBe(false);
  });

  it("renders a CRI-O config that listens where the kubelet dials, runs runc through crio-runc and pins the version's pause image", () => {
    const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
    const conf = parseToml(crioConfig(v)) as { crio: Record<string, any> };
    expect(`unix://${conf.crio.api.listen}`).toBe("unix:///var/run/crio/crio.sock");
    expect(conf.crio.runtime.cgroup_manager).toBe("cgroupfs");
    expect(conf.crio.runtime.default_runtime).toBe("runc");
    expect(conf.crio.runtime.runtimes.runc.runtime_path).toBe("/usr/local/bin/crio-runc");
    expect(conf.crio.image.pause_image).toBe(imageRefs(v).pause);
    expect(conf.crio.image.pinned_images).toEqual([imageRefs(v).pause]);
    expect(conf.crio.network.plugin_dirs).toEqual(["/opt/cni/bin/"]);
  });
});
