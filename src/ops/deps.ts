import type { ClusterConfig } from "../config/index.js";
import type { SourceChoice } from "../artifacts/source-choice.js";
import type { ClusterDeps } from "../create/context.js";
import type { ClusterApi } from "../create/cluster-api.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/** How operations obtain what they build or fetch: where binaries come from. */
export interface SupplyOptions {
  source: SourceChoice;
  kubeconfigPath: string | null;
  signal?: AbortSignal;
  log: (message: string) => void;
}

/** The real dependencies of cluster operations: this engine, the cluster's API, kubeyard's cache. */
export function clusterDeps(driver: NodeDriver, opts: SupplyOptions): ClusterDeps {
  return {
    driver,
    connectApi: lazyClusterApi,
    kubeconfigPath: opts.kubeconfigPath,
    signal: opts.signal,
    log: opts.log,
    ensureNodeImage: async (config: ClusterConfig, progress) => {
      const { nodeImageFor } = await import("../cluster/node-image.js");
      const image = nodeImageFor(config);
      if (config.nodeImage) {
        if (!(await driver.images.inspect(image))) throw new UserError(`node image ${image} does not exist`);
        return image;
      }
      const { ArtifactCache } = await import("../artifacts/cache.js");
      const { buildNodeImage } = await import("../artifacts/node-image.js");
      const cache = new ArtifactCache();
      const r = await buildNodeImage(driver.images, config.versions, {
        cache,
        source: opts.source,
        log: cache.logPath("node-image", config.versions.kubernetes, "source"),
        onStep: progress,
      });
      return r.tag;
    },
    ensureLoadBalancerImage: async (progress) => {
      const { ArtifactCache } = await import("../artifacts/cache.js");
      const { ensureLoadBalancerImage } = await import("../artifacts/load-balancer-image.js");
      return ensureLoadBalancerImage(driver.images, { cache: new ArtifactCache(), onStep: progress });
    },
    enableAddon: async (profile, name, progress) => {
      const { enableClusterAddon } = await import("../addons/manager.js");
      await enableClusterAddon(profile, name, { driver, source: opts.source, onStep: progress });
    },
    joinRegistryMirror: async (cluster) => {
      const { joinMirrors } = await import("../mirror/mirror.js");
      await joinMirrors(driver, cluster);
    },
    prepareNodesForAddons: async (profile, progress) => {
      const { prepareNodesForEnabledAddons } = await import("../addons/manager.js");
      await prepareNodesForEnabledAddons(profile, { driver, source: opts.source, onStep: progress });
    },
  };
}

/**
 * connectClusterApi, loaded at the first call: the Kubernetes client is the largest module kubeyard
 * loads (most of a second of CPU), and a start first needs it once its API server is coming up, while
 * the wait hides the load, instead of before its first container.
 */
function lazyClusterApi(...args: Parameters<ClusterDeps["connectApi"]>): ClusterApi {
  let api: Promise<ClusterApi> | undefined;
  const connected = () => (api ??= import("../create/cluster-api.js").then((m) => m.connectClusterApi(...args)));
  const call = <K extends keyof ClusterApi>(name: K): ClusterApi[K] =>
    ((...a: unknown[]) => connected().then((c) => (c[name] as (...b: unknown[]) => Promise<unknown>)(...a))) as ClusterApi[K];
  return {
    waitApiServer: call("waitApiServer"),
    createNodeObjects: call("createNodeObjects"),
    waitNodesReady: call("waitNodesReady"),
    waitPriorityClass: call("waitPriorityClass"),
    enableAddons: call("enableAddons"),
    waitPodsBack: call("waitPodsBack"),
    startKubeProxy: call("startKubeProxy"),
  };
}
