import { UserError } from "../util/errors.js";
import type { Node, Service } from "./objects.js";
import { nodeAddresses } from "./plan.js";

export interface ServiceUrls {
  urls: string[];
  /** Said next to the URLs: e.g. that a LoadBalancer has no address yet and the NodePort is used. */
  note?: string;
}

function scheme(port: { name?: string; port: number; protocol?: string }): string {
  if (port.protocol === "UDP") return "udp";
  return port.port === 443 || port.name === "https" || port.name?.startsWith("https-") ? "https" : "http";
}

/**
 * The URLs the host reaches a Service at, like `minikube service --url`: its LoadBalancer address
 * (while `kubeyard tunnel` runs), else its NodePort on a ready node.
 */
export function serviceUrls(s: Service, nodes: readonly Node[]): ServiceUrls {
  const id = `${s.metadata?.namespace}/${s.metadata?.name}`;
  const type = s.spec?.type ?? "ClusterIP";
  const ports = (s.spec?.ports ?? []).filter((p) => p.protocol !== "SCTP");
  if (type !== "NodePort" && type !== "LoadBalancer") {
    throw new UserError(
      `service ${id} is of type ${type}: the host cannot reach it`,
      'make it type NodePort or LoadBalancer (kubectl patch svc NAME -p \'{"spec":{"type":"NodePort"}}\'), or use kubectl port-forward',
    );
  }
  const lb = s.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
  if (type === "LoadBalancer" && lb) return { urls: ports.map((p) => `${scheme(p)}://${lb}:${p.port}`) };
  const node = [...nodeAddresses(nodes).values()][0];
  if (!node) throw new UserError(`service ${id}: no node of the cluster is ready`, "see `kubeyard status`");
  const withNodePort = ports.filter((p) => p.nodePort);
  if (!withNodePort.length)
    throw new UserError(
      `service ${id} has no NodePort`,
      "spec.allocateLoadBalancerNodePorts is false; run `kubeyard tunnel` for its LoadBalancer address",
    );
  return {
    urls: withNodePort.map((p) => `${scheme(p)}://${node}:${p.nodePort}`),
    note:
      type === "LoadBalancer"
        ? `service ${id} has no LoadBalancer address yet (run \`kubeyard tunnel\`): its NodePort on a node instead`
        : undefined,
  };
}
