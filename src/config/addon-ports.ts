/**
 * Host ports of addons. Ports cannot be added to a running container, so every cluster publishes
 * these on its first control-plane node when it is created, on 127.0.0.1, whether the addon is
 * enabled then or later. In the config file:
 *
 *   addonPorts:
 *     ingressHttp: 80      # the ingress controller's HTTP entry point
 *     ingressHttps: 443    # ... and its HTTPS one
 *     registry: 5000       # the in-cluster registry, pushed to as localhost:PORT
 *     ingressDns: 1053     # the ingress-dns addon's DNS server, UDP and TCP on the same number
 *
 * A port left out is the usual number when that is free at start, else a free one; a port given
 * must be free (0 asks for a free one).
 */
export const ADDON_PORTS = {
  ingressHttp: { preferred: 80, containerPort: 80, protocols: ["TCP"], what: "the ingress addon's HTTP port" },
  ingressHttps: { preferred: 443, containerPort: 443, protocols: ["TCP"], what: "the ingress addon's HTTPS port" },
  registry: { preferred: 5000, containerPort: 5000, protocols: ["TCP"], what: "the registry addon's port" },
  // Above 1023 so that the host's resolver can be pointed at it without anything running as root;
  // not 5353, which mDNS responders hold. DNS needs UDP, and TCP for long answers.
  ingressDns: { preferred: 1053, containerPort: 1053, protocols: ["UDP", "TCP"], what: "the ingress-dns addon's DNS port" },
} as const satisfies Record<string, AddonPortSpec>;

export interface AddonPortSpec {
  /** The host port taken when it is free at start. */
  preferred: number;
  /** The port on the node that the addon's pod takes as its hostPort. */
  containerPort: number;
  /** Every one is published, on the same host port number. */
  protocols: readonly AddonPortProtocol[];
  what: string;
}

export type AddonPortProtocol = "TCP" | "UDP";

export type AddonPortName = keyof typeof ADDON_PORTS;
export const ADDON_PORT_NAMES = Object.keys(ADDON_PORTS) as AddonPortName[];

/** The host address addon ports are published on: loopback only, like the API server by default. */
export const ADDON_PORT_ADDRESS = "127.0.0.1";

/** What the config asks for, per port: a number (0 = any free port), or null when it does not say. */
export type AddonPortRequests = Readonly<Record<AddonPortName, number | null>>;

/** The ports a cluster publishes, chosen at its creation. */
export type AddonPorts = Readonly<Record<AddonPortName, number>>;
