import { CNI_PLUGINS, KUBERNETES_BINARIES } from "./release.js";
import { AGNHOST_VERSION, type ComponentVersions } from "./versions.js";

/**
 * How each binary artifact is built from its upstream Go module. Two shapes:
 *  - `module`: build inside the module's own source (from the module cache), so its go.mod, go.sum
 *    and replace directives apply exactly as upstream builds it;
 *  - `wrapper`: a generated main module that requires upstream at the release tag. Kubernetes and
 *    etcd need this: their repos' replace directives point into directories the module zip lacks.
 */
export interface GoBuild {
  packages: string[];
  ldflags: string[];
  tags?: string[];
  cgo?: boolean;
  /** Extra linker flags for a static cgo binary. */
  extldflags?: string;
}

export interface ModuleRecipe {
  kind: "module";
  module: string;
  version: string;
  /**
   * The module zip's go.sum hash ("h1:..."), for a module the checksum database does not list: go
   * downloads it without asking the database and kubeyard checks this hash instead.
   */
  sum?: string;
  builds: GoBuild[];
}

export interface WrapperRecipe {
  kind: "wrapper";
  module: string;
  version: string;
  /** go.mod requirements of the wrapper, besides `module@version`. */
  requires?: Record<string, string>;
  /** Upstream staging modules to pin: every `k8s.io/x v0.0.0` requirement becomes `k8s.io/x <stagingVersion>`. */
  stagingVersion?: string;
  /** Small main packages the wrapper itself contains: dir -> main.go source. */
  mains?: Record<string, string>;
  builds: GoBuild[];
}

/** A C program compiled from a file in an upstream module (the pause container). */
export interface CRecipe {
  kind: "c";
  module: string;
  version: string;
  file: string;
  output: string;
  defines: Record<string, string>;
}

/** Data files taken as they are from a folder of an upstream module (CRDs, say): nothing is compiled. */
export interface FilesRecipe {
  kind: "files";
  module: string;
  version: string;
  /** The folder inside the module. */
  dir: string;
  /** Which of its files are taken. */
  match: RegExp;
}

export type Recipe = ModuleRecipe | WrapperRecipe | CRecipe | FilesRecipe;

const CNI_PATHS: Record<(typeof CNI_PLUGINS)[number], string> = {
  bridge: "main/bridge",
  "host-local": "ipam/host-local",
  loopback: "main/loopback",
  portmap: "meta/portmap",
  ptp: "main/ptp",
  bandwidth: "meta/bandwidth",
};

export type ArtifactName =
  | "kubernetes"
  | "etcd"
  | "containerd"
  | "runc"
  | "cni-plugins"
  | "pause"
  | "coredns"
  | "local-path-provisioner"
  | "metrics-server"
  | "traefik"
  | "registry"
  | "agnhost"
  | "gateway-api-crds"
  | "kube-router";

/** Data addons install besides their own manifests, taken from Go modules (`artifacts fetch --addons`). */
export const ADDON_DATA: readonly ArtifactName[] = ["gateway-api-crds"];

const ETCD_MAIN = `package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

// etcd's own main package lives in a module whose replace directives cannot resolve from the proxy;
// this is the same entry point.
func main() { etcdmain.Main(os.Args) }
`;

// agnhost's netexec server only (HTTP with keep-alive, and UDP, answering with the pod's name): the
// other agnhost commands pull in much of Kubernetes and no test here uses them.
const AGNHOST_MAIN = `package main

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/kubernetes/test/images/agnhost/netexec"
)

func main() {
	root := &cobra.Command{Use: "agnhost"}
	root.AddCommand(netexec.CmdNetexec)
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
`;

/**
 * kube-router's module zips are served by the Go module proxy but missing from sum.golang.org, so
 * their hashes are pinned here (as `go mod download -json` reported them) and checked by kubeyard.
 */
const KUBE_ROUTER_SUMS: Record<string, string> = {
  "2.1.0": "h1:xWsptKtmZ44L+NjwFKoFAFlVdxCz8fka9A/eYJe95Ok=",
};

export function artifactVersion(name: ArtifactName, v: ComponentVersions): string {
  switch (name) {
    case "kubernetes":
      return v.kubernetes;
    case "etcd":
      return v.etcd;
    case "containerd":
      return v.containerd;
    case "runc":
      return v.runc;
    case "cni-plugins":
      return v.cniPlugins;
    case "pause":
      return v.pause;
    case "coredns":
      return v.coredns;
    case "local-path-provisioner":
      return v.localPathProvisioner;
    case "metrics-server":
      return v.metricsServer;
    case "traefik":
      return v.traefik;
    case "registry":
      return v.registry;
    case "agnhost":
      return AGNHOST_VERSION;
    case "gateway-api-crds":
      return v.gatewayApi;
    case "kube-router":
      return v.kubeRouter;
  }
}

export function recipeFor(name: ArtifactName, v: ComponentVersions): Recipe {
  switch (name) {
    case "kubernetes": {
      const [major, minor] = v.kubernetes.split(".");
      const pkg = "k8s.io/component-base/version";
      return {
        kind: "wrapper",
        module: "k8s.io/kubernetes",
        version: `v${v.kubernetes}`,
        stagingVersion: `v0.${v.kubernetes.split(".").slice(1).join(".")}`,
        builds: [
          {
            packages: KUBERNETES_BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`),
            ldflags: [
              `-X ${pkg}.gitVersion=v${v.kubernetes}`,
              `-X ${pkg}.gitMajor=${major}`,
              `-X ${pkg}.gitMinor=${minor}`,
              `-X ${pkg}.gitTreeState=clean`,
              `-X ${pkg}.buildDate=${v.released}`,
            ],
          },
        ],
      };
    }
    case "etcd":
      return {
        kind: "wrapper",
        module: "go.etcd.io/etcd/server/v3",
        version: `v${v.etcd}`,
        requires: { "go.etcd.io/etcd/etcdctl/v3": `v${v.etcd}` },
        mains: { etcd: ETCD_MAIN },
        builds: [{ packages: ["./etcd", "go.etcd.io/etcd/etcdctl/v3"], ldflags: [] }],
      };
    case "containerd": {
      const ld = [`-X github.com/containerd/containerd/v2/version.Version=v${v.containerd}`];
      return {
        kind: "module",
        module: "github.com/containerd/containerd/v2",
        version: `v${v.containerd}`,
        builds: [
          { packages: ["./cmd/containerd", "./cmd/ctr"], ldflags: ld, tags: ["urfave_cli_no_docs", "no_btrfs", "no_devmapper", "no_zfs"] },
          { packages: ["./cmd/containerd-shim-runc-v2"], ldflags: ld, tags: ["urfave_cli_no_docs", "no_grpc"] },
        ],
      };
    }
    case "runc":
      // runc needs cgo (its nsexec is C) and libseccomp; linked statically so it runs on any node base.
      return {
        kind: "module",
        module: "github.com/opencontainers/runc",
        version: `v${v.runc}`,
        builds: [
          {
            packages: ["."],
            ldflags: [`-X main.version=${v.runc}`],
            tags: ["seccomp", "urfave_cli_no_docs", "netgo", "osusergo"],
            cgo: true,
            extldflags: "-static",
          },
        ],
      };
    case "cni-plugins":
      return {
        kind: "module",
        module: "github.com/containernetworking/plugins",
        version: `v${v.cniPlugins}`,
        builds: [
          {
            packages: CNI_PLUGINS.map((p) => `./plugins/${CNI_PATHS[p]}`),
            ldflags: [`-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v${v.cniPlugins}`],
          },
        ],
      };
    case "pause":
      return {
        kind: "c",
        module: "k8s.io/kubernetes",
        version: `v${v.kubernetes}`,
        file: "build/pause/linux/pause.c",
        output: "pause",
        defines: { VERSION: `${v.pause}` },
      };
    case "coredns":
      return {
        kind: "module",
        module: "github.com/coredns/coredns",
        version: `v${v.coredns}`,
        builds: [{ packages: ["."], ldflags: [] }],
      };
    case "local-path-provisioner":
      return {
        kind: "module",
        module: "github.com/rancher/local-path-provisioner",
        version: `v${v.localPathProvisioner}`,
        builds: [{ packages: ["."], ldflags: [`-X main.VERSION=v${v.localPathProvisioner}`] }],
      };
    case "metrics-server": {
      const pkg = "k8s.io/client-go/pkg/version";
      return {
        kind: "module",
        module: "sigs.k8s.io/metrics-server",
        version: `v${v.metricsServer}`,
        builds: [
          {
            packages: ["./cmd/metrics-server"],
            ldflags: [`-X ${pkg}.gitVersion=v${v.metricsServer}`, `-X ${pkg}.buildDate=${v.released}`],
          },
        ],
      };
    }
    case "traefik":
      return {
        kind: "module",
        module: "github.com/traefik/traefik/v3",
        version: `v${v.traefik}`,
        builds: [{ packages: ["./cmd/traefik"], ldflags: [`-X github.com/traefik/traefik/v3/pkg/version.Version=v${v.traefik}`] }],
      };
    case "registry":
      return {
        kind: "module",
        module: "github.com/distribution/distribution/v3",
        version: `v${v.registry}`,
        builds: [{ packages: ["./cmd/registry"], ldflags: [`-X github.com/distribution/distribution/v3/version.version=v${v.registry}`] }],
      };
    case "agnhost":
      // The test image lives inside k8s.io/kubernetes: agnhost 2.66.1 is test/images/agnhost/VERSION
      // of v1.37.1, whatever the cluster's own version.
      return {
        kind: "wrapper",
        module: "k8s.io/kubernetes",
        version: "v1.37.1",
        stagingVersion: "v0.37.1",
        mains: { agnhost: AGNHOST_MAIN },
        builds: [{ packages: ["./agnhost"], ldflags: [] }],
      };
    case "gateway-api-crds":
      return {
        kind: "files",
        module: "sigs.k8s.io/gateway-api",
        version: `v${v.gatewayApi}`,
        dir: "config/crd/standard",
        match: /^gateway\.networking\.k8s\.io_[a-z]+\.yaml$/,
      };
    case "kube-router": {
      const pkg = "github.com/cloudnativelabs/kube-router/v2/pkg/version";
      return {
        kind: "module",
        module: "github.com/cloudnativelabs/kube-router/v2",
        version: `v${v.kubeRouter}`,
        sum: KUBE_ROUTER_SUMS[v.kubeRouter],
        builds: [{ packages: ["./cmd/kube-router"], ldflags: [`-X ${pkg}.Version=v${v.kubeRouter}`, `-X ${pkg}.BuildDate=${v.released}`] }],
      };
    }
  }
}
