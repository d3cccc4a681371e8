/**
 * Host ports of addons. Ports cannot be added to a running container, so every cluster publishes
 * these on its first control-plane node when it is created, on 127.0.0.1, whether the addon is
 * enabled then or later. In the config file:
 *
 *   addonPorts:
 *     ingressHttp: 80      # the ingress controller's HTTP entry point
 *     ingressHttps: 443    # ... and its HTTPS one
 *     registry: 5000       # the in-cluster registry, pushed to as localhost:PORT
 *
 * A port left out is the usual number when that is free at start, else a free one; a port given
 * must be free (0 asks for a free one).
 */
export const ADDON_PORTS = {
  ingressHttp: { preferred: 80, containerPort: 80, what: "the ingress addon's HTTP port" },
  ingressHttps: { preferred: 443, containerPort: 443, what: "the ingress addon's HTTPS port" },
  registry: { preferred: 5000, containerPort: 5000, what: "the registry addon's port" },
} as const;

export type AddonPortName = keyof typeof ADDON_PORTS;
export const ADDON_PORT_NAMES = Object.keys(ADDON_PORTS) as AddonPortName[];

/** The host address addon ports are published on: loopback only, like the API server by default. */
export const ADDON_PORT_ADDRESS = "127.0.0.1";

/** What the config asks for, per port: a number (0 = any free port), or null when it does not say. */
export type AddonPortRequests = Readonly<Record<AddonPortName, number | null>>;

/** The ports a cluster publishes, chosen at its creation. */
export type AddonPorts = Readonly<Record<AddonPortName, number>>;
