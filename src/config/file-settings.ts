import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ADDON_PORT_NAMES, type AddonPortName } from "./addon-ports.js";
import { DEFAULT_LISTEN_ADDRESS } from "./defaults.js";
import { checkImageRef } from "./image-ref.js";
import { parseIP } from "./ip.js";
import type { IssueList, Sourced } from "./issue-list.js";
import type { PathSegment } from "./issues.js";
import { checkLabelValue, checkQualifiedName } from "./k8s-names.js";
import { checkNodeMountPath, sameNodePath } from "./mounts.js";
import type { Mount, PortMapping, Taint } from "./cluster-config.js";
import {
  COMPONENTS,
  isContainerRuntime,
  NODE_ROLES,
  PROTOCOLS,
  TAINT_EFFECTS,
  type Component,
  type ContainerRuntime,
  type NodeRole,
  type Protocol,
  type TaintEffect,
} from "./schema.js";
import type { YamlSource } from "./yaml-source.js";

/**
 * What the file sets, typed and with where each value was written. Values of the wrong type were
 * already reported by the schema check and are left out here, so the later checks can still run
 * on everything else and all problems come out together. Checks that only concern the file
 * (labels, taints, mounts, argument names) happen here.
 */
export interface FileSettings {
  name?: Sourced<string>;
  kubernetesVersion?: Sourced<string>;
  nodeImage?: Sourced<string>;
  containerRuntime?: Sourced<ContainerRuntime>;
  podSubnet?: Sourced<string>;
  serviceSubnet?: Sourced<string>;
  dnsDomain?: Sourced<string>;
  apiServerAddress?: Sourced<string>;
  apiServerPort?: Sourced<number>;
  /** A list of nodes (without those whose role is not even valid), or counts. */
  nodes?: (Sourced<FileNode[]> & { complete: boolean }) | { count?: Sourced<number>; controlPlanes?: Sourced<number> };
  featureGates: Record<string, boolean>;
  extraArgs: Record<Component, Record<string, string>>;
  addons?: Sourced<string>[];
  addonPorts: Partial<Record<AddonPortName, Sourced<number>>>;
}

export interface FileNode {
  path: PathSegment[];
  role: NodeRole;
  image?: string;
  labels: Record<string, string>;
  taints: Taint[];
  portMappings: { mapping: PortMapping; path: PathSegment[] }[];
  mounts: Mount[];
}

export function emptyFileSettings(): FileSettings {
  return { featureGates: {}, extraArgs: emptyExtraArgs(), addonPorts: {} };
}

function emptyExtraArgs(): Record<Component, Record<string, string>> {
  return Object.fromEntries(COMPONENTS.map((c) => [c, {}])) as Record<Component, Record<string, string>>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T =>
  typeof v === "string" && (list as readonly string[]).includes(v);

export function readFileSettings(src: YamlSource, issues: IssueList): FileSettings {
  const data = isObj(src.data) ? src.data : {};
  const net = isObj(data.networking) ? data.networking : {};
  const sourced = <T>(ok: (v: unknown) => v is T, v: unknown, p: PathSegment[]): Sourced<T> | undefined =>
    ok(v) ? { value: v, origin: { kind: "file", path: p } } : undefined;
  const isStr = (v: unknown): v is string => typeof v === "string";

  const settings: FileSettings = {
    name: sourced(isStr, data.name, ["name"]),
    kubernetesVersion: sourced(isStr, data.kubernetesVersion, ["kubernetesVersion"]),
    nodeImage: sourced(isStr, data.nodeImage, ["nodeImage"]),
    containerRuntime: sourced(isContainerRuntime, data.containerRuntime, ["containerRuntime"]),
    podSubnet: sourced(isStr, net.podSubnet, ["networking", "podSubnet"]),
    serviceSubnet: sourced(isStr, net.serviceSubnet, ["networking", "serviceSubnet"]),
    dnsDomain: sourced(isStr, net.dnsDomain, ["networking", "dnsDomain"]),
    apiServerAddress: sourced(isStr, net.apiServerAddress, ["networking", "apiServerAddress"]),
    apiServerPort: sourced(isInt, net.apiServerPort, ["networking", "apiServerPort"]),
    featureGates: readFeatureGates(data.featureGates, issues),
    extraArgs: readExtraArgs(data.extraArgs, issues),
    addonPorts: {},
  };
  const addonPorts = isObj(data.addonPorts) ? data.addonPorts : {};
  for (const n of ADDON_PORT_NAMES) {
    const p = sourced(isInt, addonPorts[n], ["addonPorts", n]);
    if (p) settings.addonPorts[n] = p;
  }

  const controlPlanes = sourced(isInt, data.controlPlanes, ["controlPlanes"]);
  if (Array.isArray(data.nodes)) {
    const list = data.nodes.flatMap((n, i) => readNode(n, ["nodes", i], src, issues) ?? []);
    settings.nodes = { value: list, origin: { kind: "file", path: ["nodes"] }, complete: list.length === data.nodes.length };
    if (controlPlanes) {
      issues.file(["controlPlanes"], {
        value: controlPlanes.value,
        problem: "cannot be combined with a list of nodes",
        allowed: "either a list of nodes with their roles, or nodes: <count> with controlPlanes: <count>",
        at: "key",
      });
    }
  } else {
    settings.nodes = { count: sourced(isInt, data.nodes, ["nodes"]), controlPlanes };
  }

  if (Array.isArray(data.addons)) {
    settings.addons = data.addons.flatMap((a, i) => sourced(isStr, a, ["addons", i]) ?? []);
  }
  return settings;
}

function readNode(raw: unknown, p: PathSegment[], src: YamlSource, issues: IssueList): FileNode | undefined {
  if (!isObj(raw) || !oneOf(NODE_ROLES, raw.role)) return undefined;
  const node: FileNode = { path: p, role: raw.role, labels: {}, taints: [], portMappings: [], mounts: [] };

  if (typeof raw.image === "string") {
    const bad = checkImageRef(raw.image);
    if (bad) issues.file([...p, "image"], { value: raw.image, ...bad });
    else node.image = raw.image;
  }

  if (isObj(raw.labels)) {
    for (const [key, value] of Object.entries(raw.labels)) {
      const lp = [...p, "labels", key];
      const badKey = checkQualifiedName(key);
      if (badKey) issues.file(lp, { value: key, ...badKey, problem: `as a label key ${badKey.problem}`, at: "key" });
      if (typeof value !== "string") continue;
      const badValue = checkLabelValue(value);
      if (badValue) issues.file(lp, { value, ...badValue });
      if (!badKey && !badValue) node.labels[key] = value;
    }
  }

  if (Array.isArray(raw.taints)) {
    raw.taints.forEach((t, i) => {
      if (!isObj(t) || typeof t.key !== "string" || !oneOf(TAINT_EFFECTS, t.effect)) return;
      const tp = [...p, "taints", i];
      const value = typeof t.value === "string" ? t.value : "";
      const badKey = checkQualifiedName(t.key);
      if (badKey) issues.file([...tp, "key"], { value: t.key, ...badKey });
      const badValue = checkLabelValue(value);
      if (badValue) issues.file([...tp, "value"], { value, ...badValue });
      if (node.taints.some((o) => o.key === t.key && o.effect === t.effect)) {
        issues.file(tp, {
          value: `${t.key}:${t.effect}`,
          problem: "is given twice on this node",
          allowed: "one taint per key and effect",
        });
        return;
      }
      node.taints.push({ key: t.key, value, effect: t.effect as TaintEffect });
    });
  }

  if (Array.isArray(raw.extraPortMappings)) {
    raw.extraPortMappings.forEach((m, i) => {
      if (!isObj(m) || !isInt(m.containerPort)) return;
      const mp = [...p, "extraPortMappings", i];
      const listenAddress = typeof m.listenAddress === "string" ? m.listenAddress : DEFAULT_LISTEN_ADDRESS;
      if (!parseIP(listenAddress)) {
        issues.file([...mp, "listenAddress"], {
          value: listenAddress,
          problem: "is not an IP address",
          allowed: "an IPv4 or IPv6 address on the host, such as 127.0.0.1 or 0.0.0.0 for every address",
        });
        return;
      }
      const mapping: PortMapping = {
        containerPort: m.containerPort,
        hostPort: isInt(m.hostPort) ? m.hostPort : 0,
        listenAddress,
        protocol: oneOf(PROTOCOLS, m.protocol) ? (m.protocol as Protocol) : "TCP",
      };
      node.portMappings.push({ mapping, path: mp });
    });
  }

  if (Array.isArray(raw.extraMounts)) {
    raw.extraMounts.forEach((m, i) => {
      if (!isObj(m) || typeof m.hostPath !== "string" || typeof m.containerPath !== "string") return;
      const mp = [...p, "extraMounts", i];
      const hostPath = resolveHostPath(m.hostPath, src.dir);
      let ok = true;
      if (!fs.existsSync(hostPath)) {
        ok = false;
        issues.file([...mp, "hostPath"], {
          value: m.hostPath,
          problem: m.hostPath === hostPath ? "does not exist" : `does not exist (looked for ${hostPath})`,
          allowed: "an existing file or folder on the host; a relative path is taken from the config file's folder",
        });
      }
      const badPath = checkNodeMountPath(m.containerPath);
      if (badPath) {
        ok = false;
        issues.file([...mp, "containerPath"], badPath);
      } else if (node.mounts.some((o) => sameNodePath(o.containerPath, m.containerPath as string))) {
        ok = false;
        issues.file([...mp, "containerPath"], {
          value: m.containerPath,
          problem: "is already mounted on this node",
          allowed: "a containerPath no other mount of this node uses",
        });
      }
      if (ok) node.mounts.push({ hostPath, containerPath: m.containerPath, readOnly: m.readOnly === true });
    });
  }
  return node;
}

function resolveHostPath(p: string, base: string): string {
  if (p === "~" || p.startsWith("~/")) return path.join(os.homedir(), p.slice(1));
  return path.resolve(base, p);
}

function readFeatureGates(raw: unknown, issues: IssueList): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (!isObj(raw)) return out;
  for (const [name, on] of Object.entries(raw)) {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
      issues.file(["featureGates", name], {
        value: name,
        problem: "is not a feature gate name",
        allowed: "a feature gate name in UpperCamelCase, such as InPlacePodVerticalScaling",
        at: "key",
      });
    } else if (typeof on === "boolean") out[name] = on;
  }
  return out;
}

function readExtraArgs(raw: unknown, issues: IssueList): Record<Component, Record<string, string>> {
  const out = emptyExtraArgs();
  if (!isObj(raw)) return out;
  for (const component of COMPONENTS) {
    const args = raw[component];
    if (!isObj(args)) continue;
    for (const [flag, value] of Object.entries(args)) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(flag)) {
        issues.file(["extraArgs", component, flag], {
          value: flag,
          problem: flag.startsWith("-") ? "starts with '-'" : "is not a flag name",
          allowed: 'a flag name without the leading "--", such as v or audit-log-path',
          at: "key",
        });
      } else if (typeof value === "string") out[component][flag] = value;
    }
  }
  return out;
}
