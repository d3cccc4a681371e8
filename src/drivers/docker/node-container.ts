import type Docker from "dockerode";
import type { NodeInfo, NodeRole, NodeSpec, NodeState, PortMapping } from "../types.js";
import type { EngineFacts } from "./engine-info.js";
import { LABEL_CLUSTER, LABEL_NODE, LABEL_ROLE } from "./labels.js";
import { networkName } from "./network.js";

/** `docker` types predate cgroup namespaces (API 1.41). */
type HostConfig = Docker.HostConfig & { CgroupnsMode?: "private" | "host" };

/** Each node's /var (containerd's images, etcd's data, kubelet's state) lives in its own named volume. */
export function varVolumeName(node: string): string {
  return `${node}-var`;
}

export interface NodeContainerInputs {
  spec: NodeSpec;
  /** What gives the node the powers of a machine: --privileged or its explicit equivalent (privileges.ts). */
  privileges: Docker.HostConfig;
  facts: EngineFacts;
  /** Replaces the image's entrypoint; for tests that run nodes from a plain image. */
  entrypoint?: string[];
}

/** The engine's create request for a node container. */
export function nodeContainerOptions({ spec, privileges, facts, entrypoint }: NodeContainerInputs): Docker.ContainerCreateOptions {
  const network = networkName(spec.cluster);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of spec.ports) {
    const key = portKey(p);
    exposed[key] = {};
    // An empty HostPort asks the engine for a free one (hostPort 0 in kubeyard's config).
    (bindings[key] ??= []).push({ HostIp: p.listenAddress, HostPort: p.hostPort ? String(p.hostPort) : "" });
  }
  const mounts: Docker.MountSettings[] = [{ Type: "volume", Source: varVolumeName(spec.name), Target: "/var" }];
  // kube-proxy and the CNI plugins load netfilter modules when the host has them to offer.
  if (facts.hasLibModules) mounts.push({ Type: "bind", Source: "/lib/modules", Target: "/lib/modules", ReadOnly: true });
  for (const m of spec.mounts) mounts.push({ Type: "bind", Source: m.hostPath, Target: m.containerPath, ReadOnly: m.readOnly });

  const hostConfig: HostConfig = {
    ...privileges,
    NetworkMode: network,
    PortBindings: bindings,
    Mounts: mounts,
    // As on a machine, /run and /tmp start empty at every boot (the node's init and containerd expect it).
    Tmpfs: { "/run": "rw,exec,mode=755", "/tmp": "rw,exec,mode=1777" },
    // The node image's entrypoint is PID 1 and reaps its own children.
    Init: false,
    // Nodes come back when the engine (or the machine) restarts, as a machine does after a power
    // cut, while a node that `kubeyard stop` stopped stays stopped. "on-failure" restarts only a
    // crashed container; "always" would also restart a stopped one with the engine.
    RestartPolicy: { Name: "unless-stopped" },
    // On cgroup v2 a private namespace makes the node's own cgroup look like the root to its kubelet.
    // v1 has no such view: the host's hierarchy is shared (privileges.ts mounts it where --privileged
    // does not), so each node's kubelet and containerd must be configured with a cgroup root of their own.
    CgroupnsMode: facts.cgroupVersion === 2 ? "private" : "host",
  };
  return {
    name: spec.name,
    Hostname: spec.name,
    Image: spec.image,
    ...(entrypoint ? { Entrypoint: entrypoint, Cmd: [] } : {}),
    Tty: false,
    ...(spec.env ? { Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) } : {}),
    Labels: { ...spec.labels, [LABEL_CLUSTER]: spec.cluster, [LABEL_ROLE]: spec.role, [LABEL_NODE]: spec.name },
    ExposedPorts: exposed,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: { [network]: spec.ip ? { IPAMConfig: { IPv4Address: spec.ip } } : {} } },
  };
}

/** What kubeyard knows of a node, read back from the engine. */
export function nodeInfoOf(c: Docker.ContainerInspectInfo): NodeInfo {
  const labels = c.Config.Labels ?? {};
  const cluster = labels[LABEL_CLUSTER] ?? "";
  const state = stateOf(c.State.Status);
  const ip = state === "stopped" ? "" : (c.NetworkSettings.Networks?.[networkName(cluster)]?.IPAddress ?? "");
  return {
    name: labels[LABEL_NODE] ?? c.Name.replace(/^\//, ""),
    cluster,
    role: (labels[LABEL_ROLE] ?? "worker") as NodeRole,
    state,
    ip,
    image: c.Config.Image,
    ports: portsOf(c),
  };
}

export function stateOf(status: string): NodeState {
  if (status === "running") return "running";
  if (status === "paused") return "paused";
  // created, exited, dead, and "restarting" (a node crashing in a loop is not usable either).
  return "stopped";
}

/** The configured mappings, with engine-chosen host ports filled in while the node runs. */
function portsOf(c: Docker.ContainerInspectInfo): PortMapping[] {
  const configured = (c.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
  const live = c.NetworkSettings.Ports ?? {};
  const out: PortMapping[] = [];
  for (const [key, list] of Object.entries(configured)) {
    const [port, proto] = key.split("/");
    for (const b of list ?? []) {
      const listenAddress = b.HostIp || "0.0.0.0";
      let hostPort = Number(b.HostPort || 0);
      if (!hostPort) {
        const actual = (live[key] ?? []).find((l) => l.HostIp === listenAddress) ?? live[key]?.[0];
        hostPort = Number(actual?.HostPort ?? 0);
      }
      out.push({ containerPort: Number(port), hostPort, listenAddress, protocol: protocolOf(proto) });
    }
  }
  return out;
}

function protocolOf(proto: string | undefined): PortMapping["protocol"] {
  return proto === "udp" ? "UDP" : proto === "sctp" ? "SCTP" : "TCP";
}

function portKey(p: PortMapping): string {
  return `${p.containerPort}/${p.protocol.toLowerCase()}`;
}
