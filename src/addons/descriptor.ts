import type { ArtifactName } from "../artifacts/recipes.js";
import type { ImageName } from "../versions/versions.js";
import { ADDON_PORTS, type AddonPortName } from "../config/addon-ports.js";
import { IssueList } from "../config/issue-list.js";
import type { ConfigIssue } from "../config/issues.js";
import { checkDNS1123Label } from "../config/k8s-names.js";
import { checkSchema } from "../config/schema-check.js";
import type { ContainerRuntime } from "../config/schema.js";
import type { YamlSource } from "../config/yaml-source.js";
import { descriptorSchema, VALUE_TYPES } from "./descriptor-schema.js";
import { checkFormat, VALUE_FORMAT_NAMES, type ValueFormat } from "./value-formats.js";

/**
 * What an addon says about itself in `addons/<name>/addon.yaml`:
 *
 *   name: coredns                      # = the folder's name
 *   description: Cluster DNS           # one line
 *   default: true                      # on in a new cluster unless the user says otherwise
 *   alwaysOn: true                     # cannot be disabled (optional, default false)
 *   images: [coredns]                  # keys of imageRefs, what the manifests may use as ${images.x}
 *   values:                            # what `--set key=value` may change, usable as ${values.key}
 *     replicas: {type: int, default: 1, min: 1, description: CoreDNS pods}
 *     zone: {type: string, default: test, format: dns-subdomain, description: ...}   # format: value-formats.ts
 *   readiness:                         # what "enabled" waits for
 *     - {kind: Deployment, namespace: kube-system, name: coredns}
 *     - {kind: APIService, name: v1beta1.metrics.k8s.io, condition: Available}
 *   usage: |                           # printed after `addons enable` (optional; may use ${ports.x})
 *     kubectl top nodes
 *   manifestArtifacts: [gateway-api-crds]  # cache artifacts whose *.yaml are manifests of the addon too
 *   keepOnDisable: [CustomResourceDefinition]  # kept on disable while objects of theirs exist
 *                                             # that the addon did not create (CRDs only)
 *   hostProbes:                        # after readiness: an HTTP GET from the host on an addon port
 *     - {port: registry, path: /v2/, status: 200}   # status left out: any HTTP answer
 *     - {port: ingressDns, dns: udp}                # or a DNS query over udp or tcp: any answer
 *   nodeFiles:                         # written into every node on enable, removed on disable
 *     - {path: "/etc/x/${ports.registry}.toml", content: "...", runtime: containerd}   # runtime: only its clusters
 *
 * Its structure is checked against the JSON Schema in descriptor-schema.ts; what a schema cannot say
 * is checked here, and both report located issues (file:line:col) alike.
 */
export interface AddonDescriptor {
  name: string;
  description: string;
  default: boolean;
  alwaysOn: boolean;
  images: ImageName[];
  values: Record<string, ValueSpec>;
  readiness: ReadinessCheck[];
  /** Printed after `addons enable`: how to use what was just installed. */
  usage?: string;
  /** Cache artifacts (taken from Go modules) whose YAML files are more of the addon's manifests. */
  manifestArtifacts: ArtifactName[];
  /** Kinds whose objects a disable leaves while objects of theirs remain that the addon did not create. */
  keepOnDisable: string[];
  hostProbes: (HostProbe | DnsProbe)[];
  nodeFiles: NodeFile[];
}

/** An HTTP GET from the host to an addon port on 127.0.0.1: "a request through it works". */
export interface HostProbe {
  port: AddonPortName;
  path: string;
  /** The status wanted; any HTTP answer when absent. */
  status?: number;
}

/** A DNS query from the host to an addon port on 127.0.0.1: "the server answers through it". */
export interface DnsProbe {
  port: AddonPortName;
  dns: "udp" | "tcp";
}

/**
 * A file every node gets while the addon is enabled (path and content may use references); with a
 * runtime, only the nodes of clusters that run it (a runtime's own config, say).
 */
export interface NodeFile {
  path: string;
  content: string;
  runtime?: ContainerRuntime;
}

export type ValueType = (typeof VALUE_TYPES)[number];
export type AddonValue = string | number | boolean;

export interface ValueSpec {
  type: ValueType;
  default: AddonValue;
  description: string;
  enum?: AddonValue[];
  /** Bounds of an int value, inclusive. */
  min?: number;
  max?: number;
  /** What a string value must look like. */
  format?: ValueFormat;
}

/**
 * Deployments and DaemonSets are waited for until rolled out and available; any other kind until
 * it exists. `apiVersion` may be left out when the addon's manifests hold the object.
 */
export interface ReadinessCheck {
  kind: string;
  name: string;
  namespace?: string;
  apiVersion?: string;
  /** A status condition that must be True (e.g. an APIService's Available), beyond existing. */
  condition?: string;
}

export const ROLLOUT_KINDS: Readonly<Record<string, string>> = { Deployment: "apps/v1", DaemonSet: "apps/v1" };

type Data = Record<string, unknown>;

function isMap(v: unknown): v is Data {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether `v` is a value of type `t`, as written in YAML. */
export function hasType(v: unknown, t: ValueType): v is AddonValue {
  if (t === "int") return typeof v === "number" && Number.isInteger(v);
  if (t === "bool") return typeof v === "boolean";
  return typeof v === "string";
}

/**
 * Checks a parsed addon.yaml and returns it typed, or every problem found, each at its line and
 * column, naming the field, what it holds and what is accepted.
 */
export function checkDescriptor(src: YamlSource, folderName: string): { descriptor?: AddonDescriptor; issues: ConfigIssue[] } {
  const issues = new IssueList(src);
  issues.push(...checkSchema(src, descriptorSchema));
  const data = src.data;
  if (isMap(data)) {
    checkName(data.name, folderName, issues);
    if (isMap(data.values)) for (const [key, spec] of Object.entries(data.values)) if (isMap(spec)) checkDefault(key, spec, issues);
    items(data.readiness).forEach((check, i) => checkRolloutNamespace(check, i, issues));
    items(data.hostProbes).forEach((probe, i) => checkDnsTransport(probe, i, issues));
  }
  if (issues.length) return { issues: issues.sorted() };
  return { issues: [], descriptor: typed(data as RawDescriptor) };
}

const items = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function checkName(name: unknown, folderName: string, issues: IssueList): void {
  if (typeof name !== "string") return;
  const p = checkDNS1123Label(name);
  if (p) issues.file(["name"], { value: name, ...p });
  else if (name !== folderName) {
    issues.file(["name"], { value: name, problem: "is not the folder's name", allowed: `the name of the addon's folder, "${folderName}"` });
  }
}

/** A value's default must pass what `--set` would hold a value to: its enum, format and bounds. */
function checkDefault(key: string, spec: Data, issues: IssueList): void {
  const type = spec.type as ValueType;
  const value = spec.default;
  if (!VALUE_TYPES.includes(type) || !hasType(value, type)) return;
  const at = ["values", key, "default"];
  if (Array.isArray(spec.enum) && spec.enum.length > 0 && !spec.enum.includes(value)) {
    issues.file(at, { value, problem: "is not allowed", allowed: `one of the enum values ${spec.enum.join(", ")}` });
  }
  const format = spec.format as ValueFormat;
  const p = typeof value === "string" && VALUE_FORMAT_NAMES.includes(format) ? checkFormat(format, value) : undefined;
  if (p) issues.file(at, { value, ...p });
  const min = typeof spec.min === "number" ? spec.min : undefined;
  const max = typeof spec.max === "number" ? spec.max : undefined;
  if (typeof value === "number" && ((min !== undefined && value < min) || (max !== undefined && value > max))) {
    issues.file(at, { value, problem: "is out of range", allowed: `a value within ${min ?? "-∞"}..${max ?? "∞"}` });
  }
}

function checkRolloutNamespace(check: unknown, i: number, issues: IssueList): void {
  if (!isMap(check) || typeof check.kind !== "string" || !ROLLOUT_KINDS[check.kind] || check.namespace !== undefined) return;
  issues.file(["readiness", i, "namespace"], { problem: "is missing", allowed: `the namespace of the ${check.kind}` });
}

function checkDnsTransport(probe: unknown, i: number, issues: IssueList): void {
  if (!isMap(probe) || (probe.dns !== "udp" && probe.dns !== "tcp")) return;
  const port = ADDON_PORTS[probe.port as AddonPortName];
  if (!port || (port.protocols as readonly string[]).includes(probe.dns.toUpperCase())) return;
  issues.file(["hostProbes", i, "dns"], {
    value: probe.dns,
    problem: "is not allowed",
    allowed: `a protocol port ${String(probe.port)} is published with: ${port.protocols.join(", ").toLowerCase()}`,
  });
}

/** addon.yaml as the schema admits it: optional lists and flags still absent. */
type RawDescriptor = Partial<Omit<AddonDescriptor, "name" | "description" | "default">> &
  Pick<AddonDescriptor, "name" | "description" | "default">;

function typed(raw: RawDescriptor): AddonDescriptor {
  const values = Object.entries(raw.values ?? {}).map(([k, spec]) => [k, { ...spec, description: spec.description.trim() }]);
  return {
    name: raw.name,
    description: raw.description.trim(),
    default: raw.default,
    alwaysOn: raw.alwaysOn === true,
    images: raw.images ?? [],
    values: Object.fromEntries(values) as Record<string, ValueSpec>,
    readiness: raw.readiness ?? [],
    ...(raw.usage !== undefined ? { usage: raw.usage } : {}),
    manifestArtifacts: raw.manifestArtifacts ?? [],
    keepOnDisable: raw.keepOnDisable ?? [],
    hostProbes: raw.hostProbes ?? [],
    nodeFiles: raw.nodeFiles ?? [],
  };
}
