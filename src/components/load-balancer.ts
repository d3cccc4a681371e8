import type { ControlPlaneMember } from "./types.js";

/** Where the load balancer image reads its config. */
export const HAPROXY_CONFIG = "/usr/local/etc/haproxy/haproxy.cfg";

/**
 * HAProxy's config for the API servers: plain TCP passthrough (clients verify the API server's
 * certificate, which names the load balancer), a control plane taken out after two failed connects
 * a second apart and back after one good one, and a failed connect retried on another server.
 */
export function haproxyConfig(controlPlanes: readonly ControlPlaneMember[], apiServerPort = 6443): string {
  const server = (m: ControlPlaneMember) =>
    `  server ${m.name} ${m.ip.includes(":") ? `[${m.ip}]` : m.ip}:${apiServerPort} check inter 1s fall 2 rise 1`;
  return [
    "# Written by kubeyard: the cluster's API servers.",
    "global",
    "  log stdout format raw local0",
    "defaults",
    "  mode tcp",
    "  log global",
    "  option dontlognull",
    "  timeout connect 3s",
    "  timeout client 1h",
    "  timeout server 1h",
    "  retries 3",
    "  option redispatch",
    "frontend apiserver",
    `  bind *:${apiServerPort}`,
    "  default_backend control-planes",
    "backend control-planes",
    "  balance roundrobin",
    ...controlPlanes.map(server),
    "",
  ].join("\n");
}
