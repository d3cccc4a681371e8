import type { KubeConfig } from "@kubernetes/client-node";
import { enableAddon, getAddon, type AddonContext } from "../addons/index.js";
import { imageRefs } from "../artifacts/versions.js";
import type { ClusterConfig } from "../config/index.js";

/** What addon manifests may refer to: the cluster's networking and version, and its image names. */
export function addonContext(config: ClusterConfig): Omit<AddonContext, "values"> {
  const n = config.networking;
  return {
    cluster: {
      name: config.name,
      dnsDomain: n.dnsDomain,
      dnsServiceIP: n.dnsServiceIP,
      serviceSubnet: n.serviceSubnet,
      podSubnet: n.podSubnet,
      kubernetesVersion: config.kubernetesVersion,
    },
    images: imageRefs(config.versions),
  };
}

/** Enables addons one after another (each waits until it works), with their default values. */
export async function enableAddons(kc: KubeConfig, names: string[], ctx: Omit<AddonContext, "values">): Promise<void> {
  for (const name of names) {
    const addon = await getAddon(name);
    await enableAddon(kc, addon, ctx, {});
  }
}
