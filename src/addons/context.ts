import { imageRefs, type ImageName } from "../versions/versions.js";
import type { AddonPortName } from "../config/addon-ports.js";
import type { ClusterConfig } from "../config/index.js";
import type { ResolvedValues } from "./values.js";

/** The facts of the cluster an addon's manifests may use, as `${cluster.<field>}`. */
export interface ClusterFacts {
  name: string;
  dnsDomain: string;
  dnsServiceIP: string;
  serviceSubnet: string;
  podSubnet: string;
  /** "v1.37.1". */
  kubernetesVersion: string;
  /** The first control-plane node, where addon ports are published (see config/addon-ports.ts). */
  controlPlaneNode: string;
  /** Its address on the cluster network; known once the cluster exists. */
  controlPlaneIP?: string;
}

/**
 * Everything a manifest can refer to: `${cluster.x}`, `${images.x}` (the image references for the
 * cluster's Kubernetes version) and `${values.x}` (the addon's values; its defaults when absent).
 */
export interface AddonContext {
  cluster: ClusterFacts;
  images: Readonly<Record<ImageName, string>>;
  values?: ResolvedValues;
  /** `${ports.x}`: the host ports chosen for addons when the cluster was created. */
  ports?: Readonly<Partial<Record<AddonPortName, number>>>;
}

/** The context of a validated cluster config, without values (those are per addon). */
export function addonContext(config: ClusterConfig): AddonContext {
  const { networking } = config;
  return {
    cluster: {
      name: config.name,
      dnsDomain: networking.dnsDomain,
      dnsServiceIP: networking.dnsServiceIP,
      serviceSubnet: networking.serviceSubnet,
      podSubnet: networking.podSubnet,
      kubernetesVersion: config.kubernetesVersion,
      controlPlaneNode: config.nodes[0]?.name ?? `${config.name}-control-plane`,
    },
    images: imageRefs(config.versions),
  };
}
