import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../util/project.js";
import type { Recipe } from "./recipe-kinds.js";
import { CNI_PLUGINS, KUBERNETES_BINARIES } from "./release.js";
import { AGNHOST_VERSION, SAMPLE_APISERVER_VERSION, type ComponentVersions } from "../versions/versions.js";

/** Everything kubeyard knows of one artifact: which version a cluster gets, and how it is built from source. */
interface ArtifactEntry {
  version: (v: ComponentVersions) => string;
  /** `version` is what the entry's own `version` chose for `v`. */
  recipe: (version: string, v: ComponentVersions) => Recipe;
}

/**
 * A program of kubeyard's own, images/go-mains/NAME/main.go, built in a wrapper module against CRI-O's
 * release (its libraries, where it uses them). Its version is CRI-O's and a digest of the main, so the
 * cache keeps one build per edit of it.
 */
function crioMain(name: string, tags?: string[]): ArtifactEntry {
  const main = `${name}/main.go`;
  return {
    version: (v) => `${v.crio}-${mainDigest(main)}`,
    recipe: (_ver, v) => ({
      kind: "wrapper",
      module: "github.com/cri-o/cri-o",
      version: `v${v.crio}`,
      mains: { [name]: main },
      builds: [{ packages: [`./${name}`], ldflags: [], ...(tags ? { tags } : {}) }],
    }),
  };
}

const mainDigests = new Map<string, string>();

/** A main's digest, read once per process: versions are asked for on every start, the files do not change meanwhile. */
function mainDigest(main: string): string {
  let digest = mainDigests.get(main);
  if (digest === undefined) {
    const source = readFileSync(path.join(projectRoot(), "images", "go-mains", main));
    digest = createHash("sha256").update(source).digest("hex").slice(0, 12);
    mainDigests.set(main, digest);
  }
  return digest;
}

const CNI_PATHS: Record<(typeof CNI_PLUGINS)[number], string> = {
  bridge: "main/bridge",
  "host-local": "ipam/host-local",
  loopback: "main/loopback",
  portmap: "meta/portmap",
  ptp: "main/ptp",
  bandwidth: "meta/bandwidth",
};

/**
 * kube-router's module zips are served by the Go module proxy but missing from sum.golang.org, so
 * their hashes are pinned here (as `go mod download -json` reported them) and checked by kubeyard.
 */
const KUBE_ROUTER_SUMS: Record<string, string> = {
  "2.1.0": "h1:xWsptKtmZ44L+NjwFKoFAFlVdxCz8fka9A/eYJe95Ok=",
};

/**
 * Build tags of programs on the containers image and storage libraries (CRI-O's): no storage drivers and
 * no signature library (gpgme) whose C libraries a node lacks; Go's OpenPGP instead.
 */
const CONTAINERS_TAGS = [
  "containers_image_openpgp",
  "containers_image_ostree_stub",
  "exclude_graphdriver_btrfs",
  "exclude_graphdriver_devicemapper",
  "libdm_no_deferred_remove",
];

/**
 * Every artifact kubeyard builds from Go modules, by name: the version a cluster's versions pick,
 * and how to build it (recipe-kinds.ts). Wrapper mains are Go files under images/go-mains/.
 */
const ARTIFACTS = {
  kubernetes: {
    version: (v) => v.kubernetes,
    recipe: (ver, v) => {
      const [major, minor] = ver.split(".");
      const pkg = "k8s.io/component-base/version";
      return {
        kind: "wrapper",
        module: "k8s.io/kubernetes",
        version: `v${ver}`,
        stagingVersion: `v0.${ver.split(".").slice(1).join(".")}`,
        builds: [
          {
            packages: KUBERNETES_BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`),
            ldflags: [
              `-X ${pkg}.gitVersion=v${ver}`,
              `-X ${pkg}.gitMajor=${major}`,
              `-X ${pkg}.gitMinor=${minor}`,
              `-X ${pkg}.gitTreeState=clean`,
              `-X ${pkg}.buildDate=${v.released}`,
            ],
          },
        ],
      };
    },
  },
  etcd: {
    version: (v) => v.etcd,
    recipe: (ver) => ({
      kind: "wrapper",
      module: "go.etcd.io/etcd/server/v3",
      version: `v${ver}`,
      requires: { "go.etcd.io/etcd/etcdctl/v3": `v${ver}` },
      mains: { etcd: "etcd/main.go" },
      builds: [{ packages: ["./etcd", "go.etcd.io/etcd/etcdctl/v3"], ldflags: [] }],
    }),
  },
  containerd: {
    version: (v) => v.containerd,
    recipe: (ver) => {
      const ld = [`-X github.com/containerd/containerd/v2/version.Version=v${ver}`];
      return {
        kind: "module",
        module: "github.com/containerd/containerd/v2",
        version: `v${ver}`,
        builds: [
          { packages: ["./cmd/containerd", "./cmd/ctr"], ldflags: ld, tags: ["urfave_cli_no_docs", "no_btrfs", "no_devmapper", "no_zfs"] },
          { packages: ["./cmd/containerd-shim-runc-v2"], ldflags: ld, tags: ["urfave_cli_no_docs", "no_grpc"] },
        ],
      };
    },
  },
  runc: {
    version: (v) => v.runc,
    // runc needs cgo (its nsexec is C) and libseccomp; linked statically so it runs on any node base.
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/opencontainers/runc",
      version: `v${ver}`,
      builds: [
        {
          packages: ["."],
          ldflags: [`-X main.version=${ver}`],
          tags: ["seccomp", "urfave_cli_no_docs", "netgo", "osusergo"],
          cgo: true,
          extldflags: "-static",
        },
      ],
    }),
  },
  // CRI-O links libseccomp statically, as runc does.
  crio: {
    version: (v) => v.crio,
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/cri-o/cri-o",
      version: `v${ver}`,
      builds: [
        {
          packages: ["./cmd/crio"],
          ldflags: [],
          tags: [...CONTAINERS_TAGS, "seccomp", "netgo", "osusergo"],
          cgo: true,
          extldflags: "-static",
        },
      ],
    }),
  },
  // Loads image archives into CRI-O's store; built against the image and storage libraries of the CRI-O release.
  "crio-image-load": crioMain("crio-image-load", CONTAINERS_TAGS),
  // The OCI runtime CRI-O calls on a node: fits a container's config to what the node was given, then runs runc.
  "crio-runc": crioMain("crio-runc"),
  // CRI-O's helper that pins a pod's namespaces; C, in CRI-O's own module.
  pinns: {
    version: (v) => v.crio,
    recipe: (ver) => ({
      kind: "c",
      module: "github.com/cri-o/cri-o",
      version: `v${ver}`,
      files: ["pinns/src/pinns.c", "pinns/src/sysctl.c"],
      output: "pinns",
      defines: {},
    }),
  },
  "cri-tools": {
    version: (v) => v.criTools,
    recipe: (ver) => ({
      kind: "module",
      module: "sigs.k8s.io/cri-tools",
      version: `v${ver}`,
      builds: [{ packages: ["./cmd/crictl"], ldflags: [`-X sigs.k8s.io/cri-tools/pkg/version.Version=${ver}`] }],
    }),
  },
  "cni-plugins": {
    version: (v) => v.cniPlugins,
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/containernetworking/plugins",
      version: `v${ver}`,
      builds: [
        {
          packages: CNI_PLUGINS.map((p) => `./plugins/${CNI_PATHS[p]}`),
          ldflags: [`-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v${ver}`],
        },
      ],
    }),
  },
  pause: {
    version: (v) => v.pause,
    // pause.c is part of Kubernetes itself, taken from the cluster's release.
    recipe: (ver, v) => ({
      kind: "c",
      module: "k8s.io/kubernetes",
      version: `v${v.kubernetes}`,
      files: ["build/pause/linux/pause.c"],
      output: "pause",
      defines: { VERSION: ver },
    }),
  },
  coredns: {
    version: (v) => v.coredns,
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/coredns/coredns",
      version: `v${ver}`,
      builds: [{ packages: ["."], ldflags: [] }],
    }),
  },
  "local-path-provisioner": {
    version: (v) => v.localPathProvisioner,
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/rancher/local-path-provisioner",
      version: `v${ver}`,
      builds: [{ packages: ["."], ldflags: [`-X main.VERSION=v${ver}`] }],
    }),
  },
  "metrics-server": {
    version: (v) => v.metricsServer,
    recipe: (ver, v) => {
      const pkg = "k8s.io/client-go/pkg/version";
      return {
        kind: "module",
        module: "sigs.k8s.io/metrics-server",
        version: `v${ver}`,
        builds: [{ packages: ["./cmd/metrics-server"], ldflags: [`-X ${pkg}.gitVersion=v${ver}`, `-X ${pkg}.buildDate=${v.released}`] }],
      };
    },
  },
  traefik: {
    version: (v) => v.traefik,
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/traefik/traefik/v3",
      version: `v${ver}`,
      builds: [{ packages: ["./cmd/traefik"], ldflags: [`-X github.com/traefik/traefik/v3/pkg/version.Version=v${ver}`] }],
    }),
  },
  registry: {
    version: (v) => v.registry,
    recipe: (ver) => ({
      kind: "module",
      module: "github.com/distribution/distribution/v3",
      version: `v${ver}`,
      builds: [{ packages: ["./cmd/registry"], ldflags: [`-X github.com/distribution/distribution/v3/version.version=v${ver}`] }],
    }),
  },
  // Cached apart from "agnhost", the name under which kubeyard once cached a build of netexec alone.
  "agnhost-all": {
    version: () => AGNHOST_VERSION,
    // The test image lives inside k8s.io/kubernetes: agnhost 2.66.1 is test/images/agnhost/VERSION
    // of v1.37.1, whatever the cluster's own version. Every command of upstream's main, stamped as
    // its Makefile stamps it.
    recipe: (ver) => ({
      kind: "wrapper",
      module: "k8s.io/kubernetes",
      version: "v1.37.1",
      stagingVersion: "v0.37.1",
      builds: [{ packages: ["k8s.io/kubernetes/test/images/agnhost"], ldflags: [`-X main.Version=${ver}`] }],
    }),
  },
  // The test certificate agnhost's porter serves TLS with, and the pictures kitten and nautilus add to agnhost,
  // from the release whose e2e suite names them.
  "agnhost-porter-files": {
    version: () => "1.37.1",
    recipe: (ver) => ({
      kind: "files",
      module: "k8s.io/kubernetes",
      version: `v${ver}`,
      dir: "test/images/agnhost/porter",
      match: /^localhost\.(crt|key)$/,
    }),
  },
  "kitten-files": {
    version: () => "1.37.1",
    recipe: (ver) => ({ kind: "files", module: "k8s.io/kubernetes", version: `v${ver}`, dir: "test/images/kitten/html", match: /./ }),
  },
  "nautilus-files": {
    version: () => "1.37.1",
    recipe: (ver) => ({ kind: "files", module: "k8s.io/kubernetes", version: `v${ver}`, dir: "test/images/nautilus/html", match: /./ }),
  },
  // The setuid program of the nonewprivs test image, from the release whose e2e suite names it.
  nonewprivs: {
    version: () => "1.37.1",
    recipe: (ver) => ({
      kind: "wrapper",
      module: "k8s.io/kubernetes",
      version: `v${ver}`,
      stagingVersion: `v0.${ver.split(".").slice(1).join(".")}`,
      builds: [{ packages: ["k8s.io/kubernetes/test/images/nonewprivs"], ldflags: [] }],
    }),
  },
  "sample-apiserver": {
    version: () => SAMPLE_APISERVER_VERSION,
    recipe: (ver) => ({
      kind: "module",
      module: "k8s.io/sample-apiserver",
      version: `v${ver}`,
      builds: [{ packages: ["."], ldflags: [] }],
    }),
  },
  "gateway-api-crds": {
    version: (v) => v.gatewayApi,
    recipe: (ver) => ({
      kind: "files",
      module: "sigs.k8s.io/gateway-api",
      version: `v${ver}`,
      dir: "config/crd/standard",
      match: /^gateway\.networking\.k8s\.io_[a-z]+\.yaml$/,
    }),
  },
  "kube-router": {
    version: (v) => v.kubeRouter,
    recipe: (ver, v) => {
      const pkg = "github.com/cloudnativelabs/kube-router/v2/pkg/version";
      return {
        kind: "module",
        module: "github.com/cloudnativelabs/kube-router/v2",
        version: `v${ver}`,
        sum: KUBE_ROUTER_SUMS[ver],
        builds: [{ packages: ["./cmd/kube-router"], ldflags: [`-X ${pkg}.Version=v${ver}`, `-X ${pkg}.BuildDate=${v.released}`] }],
      };
    },
  },
} as const satisfies Record<string, ArtifactEntry>;

export type ArtifactName = keyof typeof ARTIFACTS;
export const ARTIFACT_NAMES = Object.keys(ARTIFACTS) as ArtifactName[];

/** Data addons install besides their own manifests, taken from Go modules (`artifacts fetch --addons`). */
export const ADDON_DATA: readonly ArtifactName[] = ["gateway-api-crds"];

export function artifactVersion(name: ArtifactName, v: ComponentVersions): string {
  return ARTIFACTS[name].version(v);
}

export function recipeFor(name: ArtifactName, v: ComponentVersions): Recipe {
  const entry: ArtifactEntry = ARTIFACTS[name];
  return entry.recipe(entry.version(v), v);
}
