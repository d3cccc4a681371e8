/**
 * The one table of what goes with each supported Kubernetes version. etcd, CoreDNS and pause
 * follow what kubeadm pins for that release (cmd/kubeadm/app/constants); the runtime and addon
 * versions are ones that release supports. Every module version here was checked to be served by
 * the Go module proxy, so the `source` build works where nothing else can be downloaded.
 */
export interface ComponentVersions {
  /** Full Kubernetes version without the leading "v", e.g. "1.37.1". */
  kubernetes: string;
  /** The release's date, stamped into the binaries as their build date. */
  released: string;
  etcd: string;
  containerd: string;
  runc: string;
  cniPlugins: string;
  pause: string;
  coredns: string;
  localPathProvisioner: string;
  metricsServer: string;
  traefik: string;
  registry: string;
  /** The Gateway API release whose standard-channel CRDs the ingress addon installs. */
  gatewayApi: string;
  /** kube-router, run with only its NetworkPolicy firewall (the network-policy addon). */
  kubeRouter: string;
  /** Debian's BusyBox, for the local-path helper pods; the image tag follows upstream busybox. */
  busybox: string;
  /**
   * CRI-O, the other container runtime a node can run. Its minor follows Kubernetes' where the module
   * proxy allows: it serves no 1.37 release, and of 1.35 only 1.35.2, whose go-criu v8.1.0 it does not
   * serve; so every version gets 1.36.3 (CRI v1, which every supported kubelet speaks).
   */
  crio: string;
  /** crictl (cri-tools): the runtime-neutral CLI of a node's CRI socket. */
  criTools: string;
}

const shared = {
  containerd: "2.2.1",
  runc: "1.4.3",
  cniPlugins: "1.9.1",
  localPathProvisioner: "0.0.30",
  metricsServer: "0.9.0",
  traefik: "3.6.12",
  registry: "3.0.0",
  gatewayApi: "1.4.1",
  kubeRouter: "2.1.0",
  busybox: "1.35.0",
  crio: "1.36.3",
  criTools: "1.37.0",
} as const;

/**
 * agnhost, the backend of tunnel tests and benchmarks and the workhorse of the upstream e2e suite: the
 * same for every cluster version, and outside ComponentVersions so that it is no input of the node image.
 */
export const AGNHOST_VERSION = "2.66.1";

/**
 * k8s.io/sample-apiserver's tag that upstream's sample-apiserver:1.29.2 image was built from (its
 * Makefile checks out the module's matching tag).
 */
export const SAMPLE_APISERVER_VERSION = "0.29.2";

const E2E = "registry.k8s.io/e2e-test-images";

export const SUPPORTED: readonly ComponentVersions[] = [
  { kubernetes: "1.37.1", released: "2026-09-23T17:06:22Z", etcd: "3.7.0", pause: "3.10.2", coredns: "1.14.6", ...shared },
  { kubernetes: "1.36.4", released: "2026-08-20T11:51:43Z", etcd: "3.6.8", pause: "3.10.2", coredns: "1.14.2", ...shared },
  { kubernetes: "1.35.8", released: "2026-08-20T15:16:14Z", etcd: "3.6.6", pause: "3.10.1", coredns: "1.13.1", ...shared },
];

export const DEFAULT_KUBERNETES_VERSION = SUPPORTED[0]!.kubernetes;

export function supportedVersionList(): string {
  return SUPPORTED.map((v) => `v${v.kubernetes}`).join(", ");
}

/**
 * Resolves "1.37", "v1.37.1" or "1.37.1" to a supported version; a minor alone means its newest
 * supported patch. Returns undefined for anything else so callers can say what is accepted.
 */
export function findVersion(requested: string): ComponentVersions | undefined {
  const v = requested.trim().replace(/^v/, "");
  if (/^\d+\.\d+$/.test(v)) return SUPPORTED.find((s) => s.kubernetes.startsWith(`${v}.`));
  return SUPPORTED.find((s) => s.kubernetes === v);
}

/**
 * Kubernetes Web View (PyPI kube-web-view), the dashboard addon's UI. It does not vary with the
 * Kubernetes version, so it stays out of ComponentVersions (whose fields are node image inputs).
 */
export const KUBE_WEB_VIEW_VERSION = "21.2.0";

/**
 * The image references pods use, named exactly as upstream publishes them; images no registry
 * publishes (kube-web-view) are named under localhost/kubeyard/, so nothing would ever pull them.
 */
export function imageRefs(v: ComponentVersions) {
  return {
    pause: `registry.k8s.io/pause:${v.pause}`,
    kubeProxy: `registry.k8s.io/kube-proxy:v${v.kubernetes}`,
    kubeApiserver: `registry.k8s.io/kube-apiserver:v${v.kubernetes}`,
    kubeControllerManager: `registry.k8s.io/kube-controller-manager:v${v.kubernetes}`,
    kubeScheduler: `registry.k8s.io/kube-scheduler:v${v.kubernetes}`,
    // Upstream tags etcd's image with a revision of its own image build after etcd's version.
    etcd: `registry.k8s.io/etcd:${v.etcd}-0`,
    coredns: `registry.k8s.io/coredns/coredns:v${v.coredns}`,
    localPathProvisioner: `docker.io/rancher/local-path-provisioner:v${v.localPathProvisioner}`,
    busybox: `docker.io/library/busybox:${v.busybox}`,
    metricsServer: `registry.k8s.io/metrics-server/metrics-server:v${v.metricsServer}`,
    traefik: `docker.io/library/traefik:v${v.traefik}`,
    registry: `docker.io/library/registry:${v.registry}`,
    kubeWebView: `localhost/kubeyard/kube-web-view:${KUBE_WEB_VIEW_VERSION}`,
    kubeRouter: `docker.io/cloudnativelabs/kube-router:v${v.kubeRouter}`,
    // The e2e test images of k8s.io/kubernetes v1.37.1 (test/utils/image/manifest.go) that its
    // [Conformance] specs run, whatever the cluster's version.
    agnhost: `${E2E}/agnhost:${AGNHOST_VERSION}`,
    agnhostPrev: `${E2E}/agnhost:2.55`,
    e2eBusybox: `${E2E}/busybox:1.37.0-2`,
    e2eNginx: `${E2E}/nginx:1.27.0-2`,
    e2eNginxNew: `${E2E}/nginx:1.28.0-2`,
    kitten: `${E2E}/kitten:1.8`,
    nautilus: `${E2E}/nautilus:1.8`,
    nonroot: `${E2E}/nonroot:1.5`,
    nonewprivs: `${E2E}/nonewprivs:1.4`,
    glibcDnsTesting: `${E2E}/glibc-dns-testing:2.1.1`,
    sampleApiserver: `${E2E}/sample-apiserver:1.29.2`,
  } as const;
}

export type ImageName = keyof ReturnType<typeof imageRefs>;

/** Images every fresh cluster needs, preloaded into the node image so a start pulls nothing. */
export const NODE_IMAGES: readonly ImageName[] = [
  "pause",
  "etcd",
  "kubeApiserver",
  "kubeControllerManager",
  "kubeScheduler",
  "kubeProxy",
  "coredns",
  "localPathProvisioner",
  "busybox",
];

/** Images only addons use; fetched on demand, or all at once with `artifacts fetch --addons`. */
export const ADDON_IMAGES: readonly ImageName[] = ["metricsServer", "traefik", "registry", "kubeWebView", "kubeRouter"];

/** Images only tests and benchmarks use: built on demand, never preloaded. */
export const TEST_IMAGES: readonly ImageName[] = [
  "agnhost",
  "agnhostPrev",
  "e2eBusybox",
  "e2eNginx",
  "e2eNginxNew",
  "kitten",
  "nautilus",
  "nonroot",
  "nonewprivs",
  "glibcDnsTesting",
  "sampleApiserver",
];
