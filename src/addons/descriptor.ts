import { ADDON_DATA, type ArtifactName } from "../artifacts/recipes.js";
import { imageRefs, SUPPORTED, type ImageName } from "../artifacts/versions.js";
import { ADDON_PORTS, ADDON_PORT_NAMES, type AddonPortName } from "../config/addon-ports.js";
import { checkDNS1123Label } from "../config/k8s-names.js";
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
 *     - {path: "/etc/x/${ports.registry}.toml", content: "..."}
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

/** A file every node gets while the addon is enabled (path and content may use references). */
export interface NodeFile {
  path: string;
  content: string;
}

export type ValueType = "string" | "int" | "bool";
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

const TOP_KEYS = [
  "name",
  "description",
  "default",
  "alwaysOn",
  "images",
  "values",
  "readiness",
  "usage",
  "manifestArtifacts",
  "keepOnDisable",
  "hostProbes",
  "nodeFiles",
];
/** Kinds keepOnDisable accepts: a CRD is "in use" while objects of the resource it defines exist. */
const KEEPABLE_KINDS = ["CustomResourceDefinition"];
const VALUE_KEYS = ["type", "default", "description", "enum", "min", "max", "format"];
const READINESS_KEYS = ["kind", "name", "namespace", "apiVersion", "condition"];
const VALUE_TYPES: readonly ValueType[] = ["string", "int", "bool"];
const VALUE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export function knownImageNames(): ImageName[] {
  return Object.keys(imageRefs(SUPPORTED[0]!)) as ImageName[];
}

type Data = Record<string, unknown>;

function isMap(v: unknown): v is Data {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}

/** Whether `v` is a value of type `t`, as written in YAML. */
export function hasType(v: unknown, t: ValueType): v is AddonValue {
  if (t === "int") return typeof v === "number" && Number.isInteger(v);
  if (t === "bool") return typeof v === "boolean";
  return typeof v === "string";
}

/**
 * Checks a parsed addon.yaml and returns it typed, or every problem found, each naming the field,
 * what it holds and what is accepted.
 */
export function checkDescriptor(data: unknown, folderName: string): { descriptor?: AddonDescriptor; problems: string[] } {
  const problems: string[] = [];
  const bad = (field: string, value: unknown, accepted: string) => problems.push(`${field}: got ${show(value)}, want ${accepted}`);
  if (!isMap(data)) {
    return { problems: [`the file must be a mapping with the fields ${TOP_KEYS.join(", ")}; got ${show(data)}`] };
  }
  for (const key of Object.keys(data)) {
    if (!TOP_KEYS.includes(key)) problems.push(`${key}: is not a known field; known fields: ${TOP_KEYS.join(", ")}`);
  }

  const name = data.name;
  if (typeof name !== "string" || checkDNS1123Label(name)) {
    bad("name", name, "a DNS-1123 label (lowercase letters, digits and '-')");
  } else if (name !== folderName) {
    bad("name", name, `the name of the addon's folder, "${folderName}"`);
  }
  const description = data.description;
  if (typeof description !== "string" || description.trim() === "" || description.includes("\n")) {
    bad("description", description, "one non-empty line of text");
  }
  if (typeof data.default !== "boolean") bad("default", data.default, "true or false");
  if (data.alwaysOn !== undefined && typeof data.alwaysOn !== "boolean") bad("alwaysOn", data.alwaysOn, "true or false");
  if (data.alwaysOn === true && data.default === false) bad("default", data.default, "true: an alwaysOn addon is always enabled");
  if (data.usage !== undefined && typeof data.usage !== "string") bad("usage", data.usage, "text");

  const images = checkImages(data.images, bad);
  const values = checkValues(data.values, bad);
  const readiness = checkReadiness(data.readiness, bad);
  const manifestArtifacts = checkList(data.manifestArtifacts, "manifestArtifacts", ADDON_DATA, bad) as ArtifactName[];
  const keepOnDisable = checkList(data.keepOnDisable, "keepOnDisable", KEEPABLE_KINDS, bad);
  const hostProbes = checkHostProbes(data.hostProbes, bad);
  const nodeFiles = checkNodeFiles(data.nodeFiles, bad);

  if (problems.length) return { problems };
  return {
    problems,
    descriptor: {
      name: name as string,
      description: (description as string).trim(),
      default: data.default as boolean,
      alwaysOn: data.alwaysOn === true,
      images,
      values,
      readiness,
      ...(typeof data.usage === "string" ? { usage: data.usage } : {}),
      manifestArtifacts,
      keepOnDisable,
      hostProbes,
      nodeFiles,
    },
  };
}

type Bad = (field: string, value: unknown, accepted: string) => void;

function checkImages(raw: unknown, bad: Bad): ImageName[] {
  if (raw === undefined) return [];
  const known = knownImageNames();
  if (!Array.isArray(raw)) {
    bad("images", raw, `a list of image names (${known.join(", ")})`);
    return [];
  }
  raw.forEach((img, i) => {
    if (typeof img !== "string" || !known.includes(img as ImageName)) bad(`images[${i}]`, img, `one of ${known.join(", ")}`);
  });
  return raw as ImageName[];
}

function checkValues(raw: unknown, bad: Bad): Record<string, ValueSpec> {
  if (raw === undefined) return {};
  if (!isMap(raw)) {
    bad("values", raw, "a mapping of value name to {type, default, description}");
    return {};
  }
  const out: Record<string, ValueSpec> = {};
  for (const [key, spec] of Object.entries(raw)) {
    const at = `values.${key}`;
    if (!VALUE_NAME.test(key)) bad(at, key, "a name of letters and digits, starting with a letter");
    if (!isMap(spec)) {
      bad(at, spec, "a mapping with type, default and description");
      continue;
    }
    for (const k of Object.keys(spec)) {
      if (!VALUE_KEYS.includes(k)) bad(`${at}.${k}`, k, `one of the fields ${VALUE_KEYS.join(", ")}`);
    }
    const type = spec.type as ValueType;
    if (!VALUE_TYPES.includes(type)) {
      bad(`${at}.type`, spec.type, `one of ${VALUE_TYPES.join(", ")}`);
      continue;
    }
    if (!hasType(spec.default, type)) bad(`${at}.default`, spec.default, `a value of type ${type}`);
    if (typeof spec.description !== "string" || spec.description.trim() === "") {
      bad(`${at}.description`, spec.description, "one line saying what the value changes");
    }
    if (spec.enum !== undefined) {
      if (!Array.isArray(spec.enum) || spec.enum.length === 0 || !spec.enum.every((e) => hasType(e, type))) {
        bad(`${at}.enum`, spec.enum, `a non-empty list of ${type} values`);
      } else if (!(spec.enum as unknown[]).includes(spec.default)) {
        bad(`${at}.default`, spec.default, `one of the enum values ${spec.enum.join(", ")}`);
      }
    }
    for (const bound of ["min", "max"] as const) {
      if (spec[bound] === undefined) continue;
      if (type !== "int" || !hasType(spec[bound], "int")) bad(`${at}.${bound}`, spec[bound], "an integer bound, on an int value only");
    }
    const format = spec.format as ValueFormat | undefined;
    if (format !== undefined) {
      if (type !== "string" || !VALUE_FORMAT_NAMES.includes(format)) {
        bad(`${at}.format`, spec.format, `one of ${VALUE_FORMAT_NAMES.join(", ")}, on a string value only`);
      } else if (typeof spec.default === "string" && checkFormat(format, spec.default)) {
        bad(`${at}.default`, spec.default, checkFormat(format, spec.default)!.allowed);
      }
    }
    const min = spec.min as number | undefined;
    const max = spec.max as number | undefined;
    if (typeof spec.default === "number" && ((min !== undefined && spec.default < min) || (max !== undefined && spec.default > max))) {
      bad(`${at}.default`, spec.default, `a value within ${min ?? "-∞"}..${max ?? "∞"}`);
    }
    out[key] = {
      type,
      default: spec.default as AddonValue,
      description: String(spec.description ?? "").trim(),
      ...(spec.enum !== undefined ? { enum: spec.enum as AddonValue[] } : {}),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(format !== undefined ? { format } : {}),
    };
  }
  return out;
}

function checkReadiness(raw: unknown, bad: Bad): ReadinessCheck[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    bad("readiness", raw, "a list of {kind, name, namespace?, apiVersion?, condition?}");
    return [];
  }
  const out: ReadinessCheck[] = [];
  raw.forEach((item, i) => {
    const at = `readiness[${i}]`;
    if (!isMap(item)) {
      bad(at, item, "a mapping {kind, name, namespace?, apiVersion?, condition?}");
      return;
    }
    for (const k of Object.keys(item)) {
      if (!READINESS_KEYS.includes(k)) bad(`${at}.${k}`, k, `one of the fields ${READINESS_KEYS.join(", ")}`);
    }
    for (const k of ["kind", "name"]) {
      if (typeof item[k] !== "string" || item[k] === "") bad(`${at}.${k}`, item[k], "a non-empty string");
    }
    for (const k of ["namespace", "apiVersion", "condition"]) {
      if (item[k] !== undefined && (typeof item[k] !== "string" || item[k] === "")) bad(`${at}.${k}`, item[k], "a non-empty string");
    }
    if (typeof item.kind === "string" && ROLLOUT_KINDS[item.kind] && item.namespace === undefined) {
      bad(`${at}.namespace`, undefined, `the namespace of the ${item.kind}`);
    }
    out.push(item as unknown as ReadinessCheck);
  });
  return out;
}

function checkList(raw: unknown, field: string, accepted: readonly string[], bad: Bad): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    bad(field, raw, `a list of ${accepted.join(", ")}`);
    return [];
  }
  raw.forEach((item, i) => {
    if (typeof item !== "string" || !accepted.includes(item)) bad(`${field}[${i}]`, item, `one of ${accepted.join(", ")}`);
  });
  return raw as string[];
}

function checkHostProbes(raw: unknown, bad: Bad): (HostProbe | DnsProbe)[] {
  if (raw === undefined) return [];
  const want = `a mapping {port: ${ADDON_PORT_NAMES.join(" | ")}, path: /..., status?: 100..599} or {port, dns: udp | tcp}`;
  if (!Array.isArray(raw)) {
    bad("hostProbes", raw, `a list of ${want}`);
    return [];
  }
  const out: (HostProbe | DnsProbe)[] = [];
  raw.forEach((item, i) => {
    const at = `hostProbes[${i}]`;
    if (!isMap(item)) return void bad(at, item, want);
    if (item.dns !== undefined) return void out.push(checkDnsProbe(item, at, bad));
    for (const k of Object.keys(item)) if (!["port", "path", "status"].includes(k)) bad(`${at}.${k}`, k, "one of the fields port, path, status");
    if (!ADDON_PORT_NAMES.includes(item.port as AddonPortName)) bad(`${at}.port`, item.port, `one of ${ADDON_PORT_NAMES.join(", ")}`);
    if (typeof item.path !== "string" || !item.path.startsWith("/")) bad(`${at}.path`, item.path, "a URL path starting with /");
    if (item.status !== undefined && !(typeof item.status === "number" && Number.isInteger(item.status) && item.status >= 100 && item.status <= 599)) {
      bad(`${at}.status`, item.status, "an HTTP status from 100 to 599");
    }
    out.push(item as unknown as HostProbe);
  });
  return out;
}

function checkDnsProbe(item: Data, at: string, bad: Bad): DnsProbe {
  for (const k of Object.keys(item)) if (!["port", "dns"].includes(k)) bad(`${at}.${k}`, k, "one of the fields port, dns (a DNS probe)");
  const port = ADDON_PORTS[item.port as AddonPortName];
  if (!port) bad(`${at}.port`, item.port, `one of ${ADDON_PORT_NAMES.join(", ")}`);
  if (item.dns !== "udp" && item.dns !== "tcp") {
    bad(`${at}.dns`, item.dns, "udp or tcp");
  } else if (port && !(port.protocols as readonly string[]).includes(item.dns.toUpperCase())) {
    bad(`${at}.dns`, item.dns, `a protocol port ${String(item.port)} is published with: ${port.protocols.join(", ").toLowerCase()}`);
  }
  return item as unknown as DnsProbe;
}

function checkNodeFiles(raw: unknown, bad: Bad): NodeFile[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    bad("nodeFiles", raw, "a list of {path, content}");
    return [];
  }
  const out: NodeFile[] = [];
  raw.forEach((item, i) => {
    const at = `nodeFiles[${i}]`;
    if (!isMap(item)) return void bad(at, item, "a mapping {path, content}");
    for (const k of Object.keys(item)) if (!["path", "content"].includes(k)) bad(`${at}.${k}`, k, "one of the fields path, content");
    if (typeof item.path !== "string" || !item.path.startsWith("/")) bad(`${at}.path`, item.path, "an absolute path inside the node");
    if (typeof item.content !== "string") bad(`${at}.content`, item.content, "text");
    out.push(item as unknown as NodeFile);
  });
  return out;
}
