import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addonKinds,
  addonNames,
  addonSelector,
  getAddon,
  listAddons,
  renderAddon,
  renderText,
  resolveValues,
  type Addon,
  type AddonContext,
} from "../../src/addons/index.js";
import { imageRefs, SUPPORTED } from "../../src/versions/versions.js";
import { portsMissingFor } from "../../src/addons/host-ports.js";
import { ADDON_PORTS } from "../../src/config/addon-ports.js";
import { applyOrder, type KubeObject } from "../../src/kube/index.js";
import { UserError } from "../../src/util/errors.js";

const ctx: AddonContext = {
  cluster: {
    name: "dev",
    dnsDomain: "corp.example",
    dnsServiceIP: "10.100.0.10",
    serviceSubnet: "10.100.0.0/16",
    podSubnet: "10.244.0.0/16",
    kubernetesVersion: "v1.37.1",
    controlPlaneNode: "dev-control-plane",
    controlPlaneIP: "172.30.0.2",
  },
  images: imageRefs(SUPPORTED[0]!),
  ports: { ingressHttp: 8080, ingressHttps: 8443, registry: 5001, ingressDns: 1153 },
};

const LABELS = { "app.kubernetes.io/managed-by": "kubeyard", "kubeyard.dev/addon": "demo" };

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kubeyard-addon-render-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An addon "demo" with the given values and one manifest file. */
async function demo(values: string, manifest: string): Promise<Addon> {
  const dir = path.join(root, `set${++n}`);
  await mkdir(path.join(dir, "demo"), { recursive: true });
  await writeFile(
    path.join(dir, "demo", "addon.yaml"),
    `name: demo\ndescription: d\ndefault: false\nimages: [busybox]\nvalues:\n${values}`,
  );
  await writeFile(path.join(dir, "demo", "m.yaml"), manifest);
  return getAddon("demo", dir);
}

const VALUES = `  replicas: {type: int, default: 1, min: 1, max: 5, description: How many}
  debug: {type: bool, default: false, description: Verbose logs}
  mode: {type: string, default: safe, enum: [safe, fast], description: How}
`;

describe("rendering values into parsed manifests", () => {
  it("a field that is one reference takes the value's type; references inside text become text", async () => {
    const addon = await demo(
      VALUES,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: demo, namespace: demo, labels: {app: demo}}
spec:
  replicas: \${values.replicas}
  paused: \${values.debug}
  template:
    spec:
      containers:
        - name: c
          image: \${images.busybox}
          args: ["--mode=\${values.mode}", "--domain=\${cluster.dnsDomain}", "--n=\${values.replicas}"]
          command: [sh, -c, 'echo \${HOME} $\${values.replicas}']
`,
    );
    const [deployment] = renderAddon(addon, { ...ctx, values: resolveValues(addon, { replicas: "3", debug: "true", mode: "fast" }) });
    const spec = deployment!.spec as Record<string, any>;
    expect(spec.replicas).toBe(3);
    expect(spec.paused).toBe(true);
    const container = spec.template.spec.containers[0];
    expect(container.image).toBe(ctx.images.busybox);
    expect(container.args).toEqual(["--mode=fast", "--domain=corp.example", "--n=3"]);
    // A shell variable is not a reference, and $${...} is a literal ${...}.
    expect(container.command).toEqual(["sh", "-c", "echo ${HOME} ${values.replicas}"]);
    expect(deployment!.metadata!.labels).toEqual({ app: "demo", ...LABELS });
  });

  it("uses the defaults when no values are given", async () => {
    const addon = await demo(
      VALUES,
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: demo}\nspec: {replicas: '${values.replicas}'}\n",
    );
    const [deployment] = renderAddon(addon, ctx);
    expect((deployment!.spec as { replicas: unknown }).replicas).toBe(1);
  });

  it("a value cannot change the structure of a manifest", async () => {
    const addon = await demo(
      "  note: {type: string, default: x, description: n}\n",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: demo}\ndata: {note: '${values.note}'}\n",
    );
    const hostile = "x\nkind: Secret\n---\napiVersion: v1";
    const objects = renderAddon(addon, { ...ctx, values: resolveValues(addon, { note: hostile }) });
    expect(objects).toHaveLength(1);
    expect(objects[0]!.kind).toBe("ConfigMap");
    expect((objects[0]!.data as { note: string }).note).toBe(hostile);
  });

  it("an unknown reference fails naming the file, the object and the field", async () => {
    const addon = await demo(
      VALUES,
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: demo}\ndata:\n  a: 'n=${values.replicaz}'\n",
    );
    expect(() => renderAddon(addon, ctx)).toThrow(
      "demo/m.yaml: ConfigMap demo/c, field data.a: ${values.replicaz} is unknown; known: replicas, debug, mode",
    );
    const root = await demo(VALUES, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: '${cluster.dnsdomain}'\n");
    expect(() => renderAddon(root, ctx)).toThrow(
      "${cluster.dnsdomain} is unknown; known: name, dnsDomain, dnsServiceIP, serviceSubnet, podSubnet, kubernetesVersion",
    );
    const bad = await demo(VALUES, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: '${value.replicas}'\n");
    expect(() => renderAddon(bad, ctx)).toThrow('${value.replicas} refers to "value", which is not one of cluster, images, values');
  });

  it("only the images the descriptor lists can be used", async () => {
    const addon = await demo(
      VALUES,
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: '${images.coredns}'}]\n",
    );
    expect(() => renderAddon(addon, ctx)).toThrow(
      "${images.coredns} is unknown (images must be listed in demo's addon.yaml); known: busybox",
    );
  });
});

describe("resolving values", () => {
  const addon = { name: "demo", values: yaml.load(`\n${VALUES.replace(/^ {2}/gm, "")}`) as Addon["values"] };

  it("parses each setting to its type over the defaults", () => {
    expect(resolveValues(addon)).toEqual({ replicas: 1, debug: false, mode: "safe" });
    expect(resolveValues(addon, { replicas: "4", debug: "TRUE" })).toEqual({ replicas: 4, debug: true, mode: "safe" });
  });

  function reject(set: Record<string, string>): UserError {
    try {
      resolveValues(addon, set);
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      return error as UserError;
    }
    throw new Error("resolveValues accepted a bad value");
  }

  it("an unknown key fails listing the accepted ones", () => {
    const error = reject({ replica: "2" });
    expect(error.message).toBe('the demo addon has no value "replica"');
    expect(error.hint).toBe(
      "accepted values: replicas (int, default 1; 1..5): How many; debug (bool, default false): Verbose logs; mode (string, default safe; one of safe, fast): How",
    );
  });

  it("a bad value fails saying what its type, enum or bounds accept", () => {
    expect(reject({ replicas: "two" })).toMatchObject({
      message: 'invalid value "two" for demo value "replicas"',
      hint: "give an integer (type int)",
    });
    expect(reject({ replicas: "1.5" }).hint).toBe("give an integer (type int)");
    expect(reject({ replicas: "9" }).hint).toBe("give an integer from 1 to 5");
    expect(reject({ debug: "yes" }).hint).toBe("give true or false (type bool)");
    expect(reject({ mode: "slow" }).hint).toBe("give one of safe, fast");
  });

  it("a string value with a format takes only text of that format, and says which", () => {
    const zoned = {
      name: "demo",
      values: { zone: { type: "string" as const, default: "test", format: "dns-subdomain" as const, description: "Zone" } },
    };
    expect(resolveValues(zoned, { zone: "dev.example" })).toEqual({ zone: "dev.example" });
    for (const bad of ["Test", "test.", "a b", "x {\n}", ""]) {
      let error: unknown;
      try {
        resolveValues(zoned, { zone: bad });
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(UserError);
      expect((error as UserError).message).toBe(`invalid value "${bad}" for demo value "zone"`);
      expect((error as UserError).hint).toMatch(/^give a DNS-1123 subdomain: dot-separated DNS-1123 labels/);
    }
  });
});

describe("the addons kubeyard ships", () => {
  it("are named by addonNames, which a start checks its config against, as listAddons reads them", async () => {
    expect(await addonNames()).toEqual((await listAddons()).map((a) => a.name));
  });

  it("have coredns always on, storage-provisioner and default-storageclass on by default, the rest off", async () => {
    const addons = await listAddons();
    expect(addons.map((a) => [a.name, a.default, a.alwaysOn])).toEqual([
      ["coredns", true, true],
      ["dashboard", false, false],
      ["default-storageclass", true, false],
      ["ingress", false, false],
      ["ingress-dns", false, false],
      ["metrics-server", false, false],
      ["network-policy", false, false],
      ["registry", false, false],
      ["storage-provisioner", true, false],
    ]);
  });

  it("render for every supported version with no reference left, every object labelled as its addon's", async () => {
    for (const versions of SUPPORTED) {
      for (const addon of await listAddons()) {
        const objects = renderAddon(addon, { ...ctx, images: imageRefs(versions) });
        expect(JSON.stringify(objects)).not.toMatch(/\$\{(cluster|images|values|ports)\./);
        if (addon.usage) expect(renderText(addon, ctx, addon.usage, "usage")).not.toMatch(/\$\{/);
        for (const obj of objects) {
          expect(obj.metadata?.labels).toMatchObject({ "app.kubernetes.io/managed-by": "kubeyard", "kubeyard.dev/addon": addon.name });
        }
      }
    }
  });

  it("coredns serves the cluster's domain at the DNS service address, with its image and typed replicas", async () => {
    const coredns = await getAddon("coredns");
    const objects = renderAddon(coredns, { ...ctx, values: resolveValues(coredns, { replicas: "2" }) });
    const find = (kind: string) => objects.find((o) => o.kind === kind) as KubeObject & Record<string, any>;
    expect(find("Service").spec.clusterIP).toBe("10.100.0.10");
    expect(find("Service").spec.ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`)).toEqual([
      "53/UDP",
      "53/TCP",
      "9153/TCP",
    ]);
    expect(find("ConfigMap").data.Corefile).toContain("kubernetes corp.example in-addr.arpa ip6.arpa {");
    const deployment = find("Deployment");
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(ctx.images.coredns);
    expect(container.imagePullPolicy).toBe("IfNotPresent");
    expect(container.securityContext.capabilities).toEqual({ add: ["NET_BIND_SERVICE"], drop: ["ALL"] });
    expect(find("PodDisruptionBudget").spec).toEqual({ minAvailable: 1, selector: { matchLabels: { "k8s-app": "kube-dns" } } });
  });

  it("coredns runs two replicas unless told otherwise, as upstream ships it", async () => {
    const coredns = await getAddon("coredns");
    const deployment = renderAddon(coredns, { ...ctx, values: resolveValues(coredns, {}) }).find(
      (o) => o.kind === "Deployment",
    ) as KubeObject & Record<string, any>;
    expect(deployment.spec.replicas).toBe(2);
  });

  it("ingress: Traefik on the published node with host ports 80 and 443, the default IngressClass, a GatewayClass and a Gateway on 80", async () => {
    const ingress = await getAddon("ingress");
    const objects = renderAddon(ingress, ctx);
    const find = (kind: string) => objects.find((o) => o.kind === kind) as KubeObject & Record<string, any>;
    const pod = find("Deployment").spec.template.spec;
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/hostname": "dev-control-plane" });
    expect(pod.containers[0].image).toBe(ctx.images.traefik);
    expect(pod.containers[0].ports.filter((p: { hostPort?: number }) => p.hostPort).map((p: { hostPort: number }) => p.hostPort)).toEqual([
      80, 443,
    ]);
    expect(pod.containers[0].args).toEqual(
      expect.arrayContaining(["--providers.kubernetesingress=true", "--providers.kubernetesgateway=true"]),
    );
    expect(find("IngressClass").metadata?.annotations).toEqual({ "ingressclass.kubernetes.io/is-default-class": "true" });
    expect(find("GatewayClass").spec.controllerName).toBe("traefik.io/gateway-controller");
    expect(find("Gateway").spec.listeners).toEqual([expect.objectContaining({ port: 80, protocol: "HTTP" })]);
    // The CRDs come from the Gateway API Go module at enable time, kept on disable while in use.
    expect(ingress.manifestArtifacts).toEqual(["gateway-api-crds"]);
    expect(ingress.keepOnDisable).toEqual(["CustomResourceDefinition"]);
    expect(ingress.hostProbes).toEqual([{ port: "ingressHttp", path: "/" }]);
    expect(renderText(ingress, ctx, ingress.usage!, "usage")).toContain("http://127.0.0.1:8080  and  https://127.0.0.1:8443");
  });

  it("registry: data on a PVC, host port 5000 on the published node, and a containerd hosts.toml for localhost:PORT on every node", async () => {
    const registry = await getAddon("registry");
    const objects = renderAddon(registry, ctx);
    const deployment = objects.find((o) => o.kind === "Deployment") as KubeObject & Record<string, any>;
    const pod = deployment.spec.template.spec;
    expect(pod.volumes).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "registry-data" } }]);
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata?.name === "registry-data")).toBe(true);
    expect(pod.containers[0].ports[0]).toMatchObject({ containerPort: 5000, hostPort: 5000 });
    const [file] = registry.nodeFiles;
    expect(renderText(registry, ctx, file!.path, "path")).toBe("/etc/containerd/certs.d/localhost:5001/hosts.toml");
    const toml = renderText(registry, ctx, file!.content, "content");
    expect(toml).toContain('server = "http://172.30.0.2:5000"');
    expect(toml).toContain('[host."http://172.30.0.2:5000"]\n  capabilities = ["pull", "resolve"]');
    expect(registry.hostProbes).toEqual([{ port: "registry", path: "/v2/", status: 200 }]);
    expect(renderText(registry, ctx, registry.usage!, "usage")).toContain("docker push localhost:5001/myapp:dev");
  });

  it("ingress-dns: CoreDNS answering the zone (a value) with 127.0.0.1, on UDP and TCP host port 1053 of the published node", async () => {
    const dns = await getAddon("ingress-dns");
    const objects = renderAddon(dns, { ...ctx, values: resolveValues(dns, { zone: "dev.example" }) });
    const find = (kind: string) => objects.find((o) => o.kind === kind) as KubeObject & Record<string, any>;
    const corefile: string = find("ConfigMap").data.Corefile;
    expect(corefile.startsWith("dev.example:53 {\n")).toBe(true);
    expect(corefile).toContain('answer "{{ .Name }} 60 IN A 127.0.0.1"');
    const pod = find("Deployment").spec.template.spec;
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/hostname": "dev-control-plane" });
    expect(pod.containers[0].image).toBe(ctx.images.coredns);
    // The node port kubeyard publishes the host port to, over both protocols.
    const hostPort = ADDON_PORTS.ingressDns.containerPort;
    expect(pod.containers[0].ports.map((p: { hostPort: number; protocol: string }) => `${p.hostPort}/${p.protocol}`)).toEqual([
      `${hostPort}/UDP`,
      `${hostPort}/TCP`,
    ]);
    expect(dns.hostProbes).toEqual([
      { port: "ingressDns", dns: "udp" },
      { port: "ingressDns", dns: "tcp" },
    ]);
    const usage = renderText(dns, { ...ctx, values: { zone: "test" } }, dns.usage!, "usage");
    expect(usage).toContain("dig @127.0.0.1 -p 1153 hello.test");
    expect(usage).toContain("printf '[Resolve]\\nDNS=127.0.0.1:1153\\nDomains=~test\\n'");
    expect(usage).toContain("echo 'server=/test/127.0.0.1#1153'");
    expect(usage).toContain("printf 'nameserver 127.0.0.1\\nport 1153\\n' | sudo tee /etc/resolver/test");
    // A cluster made before the DNS port existed cannot serve it.
    expect(portsMissingFor(dns, { ingressHttp: 80, ingressHttps: 443, registry: 5000 })).toEqual(["ingressDns"]);
    expect(portsMissingFor(dns, ctx.ports)).toEqual([]);
  });

  it("storage-provisioner's helper pods use the busybox image, and volumes go under /var/local-path-provisioner", async () => {
    const objects = renderAddon(await getAddon("storage-provisioner"), ctx);
    const config = objects.find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    const helper = yaml.load(config["helperPod.yaml"]!) as { spec: { containers: { image: string; imagePullPolicy: string }[] } };
    expect(helper.spec.containers[0]).toMatchObject({ image: ctx.images.busybox, imagePullPolicy: "IfNotPresent" });
    expect(JSON.parse(config["config.json"]!)).toEqual({
      nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: ["/var/local-path-provisioner"] }],
    });
    expect(objects[0]).toMatchObject({ kind: "Namespace", metadata: { name: "local-path-storage" } });
  });

  it("dashboard runs kube-web-view as a ServiceAccount bound to the view ClusterRole only, probed on /health", async () => {
    const objects = renderAddon(await getAddon("dashboard"), ctx);
    const find = (kind: string) => objects.find((o) => o.kind === kind) as KubeObject & Record<string, any>;
    expect(find("ClusterRoleBinding")).toMatchObject({
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "ServiceAccount", name: "dashboard", namespace: "kube-system" }],
    });
    expect(objects.filter((o) => /Role$/.test(o.kind!))).toEqual([]);
    const pod = find("Deployment").spec.template.spec;
    expect(pod.serviceAccountName).toBe("dashboard");
    expect(pod.containers[0]).toMatchObject({
      image: "localhost/kubeyard/kube-web-view:21.2.0",
      imagePullPolicy: "IfNotPresent",
      readinessProbe: { httpGet: { path: "/health", port: "http" } },
      securityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false },
    });
    expect(pod.containers[0].args).not.toContain("--show-secrets");
  });

  it("default-storageclass is the default class, provisioned by local-path when a pod is scheduled", async () => {
    const [sc] = renderAddon(await getAddon("default-storageclass"), ctx);
    expect(sc).toMatchObject({
      kind: "StorageClass",
      metadata: { name: "standard", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      provisioner: "rancher.io/local-path",
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Delete",
    });
  });

  it("disable looks through every kind an addon's manifests use and the common ones, with a selector for that addon only", async () => {
    const kinds = addonKinds(await getAddon("storage-provisioner")).map((k) => k.kind);
    // Namespace from the manifests; the rest of what an older version may have left behind.
    expect(kinds.sort()).toEqual(
      [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "DaemonSet",
        "Deployment",
        "Job",
        "Namespace",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "StatefulSet",
      ].sort(),
    );
    expect(addonSelector("storage-provisioner")).toBe("app.kubernetes.io/managed-by=kubeyard,kubeyard.dev/addon=storage-provisioner");
  });
});

describe("apply order", () => {
  it("puts Namespaces, then CRDs, first and keeps the given order otherwise", () => {
    const obj = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, metadata: { name } });
    const given = [
      obj("v1", "ConfigMap", "a"),
      obj("example.dev/v1", "Widget", "w"),
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.dev"),
      obj("v1", "ServiceAccount", "b"),
      obj("v1", "Namespace", "ns"),
      obj("apps/v1", "Deployment", "c"),
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "gadgets.example.dev"),
    ];
    expect(applyOrder(given).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/ns",
      "CustomResourceDefinition/widgets.example.dev",
      "CustomResourceDefinition/gadgets.example.dev",
      "ConfigMap/a",
      "Widget/w",
      "ServiceAccount/b",
      "Deployment/c",
    ]);
  });

  it("rendered addons come out in apply order", async () => {
    const objects = renderAddon(await getAddon("storage-provisioner"), ctx);
    expect(objects.map((o) => o.kind)).toEqual(applyOrder(objects).map((o) => o.kind));
    expect(objects[0]!.kind).toBe("Namespace");
  });
});
