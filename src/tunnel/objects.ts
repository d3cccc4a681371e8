import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";

/**
 * The three kinds the tunnel follows, as the plain JSON the API server sends (client-node's types
 * name the same fields). Only the fields the tunnel reads matter.
 */
export type Service = V1Service;
export type EndpointSlice = V1EndpointSlice;
export type Node = V1Node;

export const SERVICES = { apiVersion: "v1", kind: "Service" } as const;
export const ENDPOINT_SLICES = { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" } as const;
export const NODES = { apiVersion: "v1", kind: "Node" } as const;

export function serviceKey(s: { metadata?: { namespace?: string; name?: string } }): string {
  return `${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}`;
}
