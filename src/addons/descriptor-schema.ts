import { ADDON_DATA } from "../artifacts/recipes.js";
import { imageRefs, SUPPORTED, type ImageName } from "../versions/versions.js";
import { ADDON_PORT_NAMES } from "../config/addon-ports.js";
import { CONTAINER_RUNTIMES } from "../config/schema.js";
import { VALUE_FORMAT_NAMES } from "./value-formats.js";

/**
 * The JSON Schema of `addons/<name>/addon.yaml` (its fields are described in descriptor.ts). It says
 * the structure; what a schema cannot say (the name is the folder's, a default within its value's
 * bounds, enum and format, a probe's transport on its port) is checked in descriptor.ts. Each
 * `description` is what an error message offers as allowed.
 */

export function knownImageNames(): ImageName[] {
  return Object.keys(imageRefs(SUPPORTED[0]!)) as ImageName[];
}

/** Kinds keepOnDisable accepts: a CRD is "in use" while objects of the resource it defines exist. */
export const KEEPABLE_KINDS = ["CustomResourceDefinition"] as const;
export const VALUE_TYPES = ["string", "int", "bool"] as const;

const ONE_LINE = "^[^\\n]*\\S[^\\n]*$";
const nonEmpty = { type: "string", minLength: 1, description: "a non-empty string" } as const;
const oneOf = (values: readonly string[], description = values.join(", ")) => ({ enum: [...values], description });
const listOf = (items: object, description: string) => ({ type: "array", description, items });
const notHere = (description: string) => ({ not: {}, description });

const BOUND = "an integer bound, on an int value only";
const FORMAT = `one of ${VALUE_FORMAT_NAMES.join(", ")}, on a string value only`;

/** What a value's `default` and `enum` items must be, by its `type`, and the fields that type cannot have. */
const typedValue = (type: (typeof VALUE_TYPES)[number], jsonType: string) => ({
  if: { required: ["type"], properties: { type: { const: type } } },
  then: {
    properties: {
      default: { type: jsonType, description: `a value of type ${type}` },
      enum: { items: { type: jsonType, description: `a non-empty list of ${type} values` } },
      ...(type === "int" ? {} : { min: notHere(BOUND), max: notHere(BOUND) }),
      ...(type === "string" ? {} : { format: notHere(FORMAT) }),
    },
  },
});

const valueSpec = {
  type: "object",
  description: "a mapping with type, default and description",
  required: ["type", "default", "description"],
  additionalProperties: false,
  properties: {
    type: oneOf(VALUE_TYPES),
    default: { description: "the value when `--set` does not give one" },
    description: { type: "string", pattern: "\\S", description: "one line saying what the value changes" },
    enum: { type: "array", minItems: 1, description: "a non-empty list of values" },
    min: { type: "integer", description: BOUND },
    max: { type: "integer", description: BOUND },
    format: oneOf(VALUE_FORMAT_NAMES, FORMAT),
  },
  allOf: [typedValue("string", "string"), typedValue("int", "integer"), typedValue("bool", "boolean")],
} as const;

const readinessCheck = {
  type: "object",
  description: "a mapping {kind, name, namespace?, apiVersion?, condition?}",
  keyName: "field of a readiness check",
  required: ["kind", "name"],
  additionalProperties: false,
  properties: { kind: nonEmpty, name: nonEmpty, namespace: nonEmpty, apiVersion: nonEmpty, condition: nonEmpty },
} as const;

const port = oneOf(ADDON_PORT_NAMES);
const hostProbe = {
  type: "object",
  description: `a mapping {port: ${ADDON_PORT_NAMES.join(" | ")}, path: /..., status?: 100..599} or {port, dns: udp | tcp}`,
  if: { type: "object", required: ["dns"], properties: { dns: true } },
  then: {
    keyName: "field of a DNS probe",
    required: ["port", "dns"],
    additionalProperties: false,
    properties: { port, dns: oneOf(["udp", "tcp"], "udp or tcp") },
  },
  else: {
    keyName: "field of an HTTP probe",
    required: ["port", "path"],
    additionalProperties: false,
    properties: {
      port,
      path: { type: "string", pattern: "^/", description: "a URL path starting with /" },
      status: { type: "integer", minimum: 100, maximum: 599, description: "an HTTP status from 100 to 599" },
    },
  },
} as const;

const nodeFile = {
  type: "object",
  description: "a mapping {path, content, runtime}",
  keyName: "field of a node file",
  required: ["path", "content"],
  additionalProperties: false,
  properties: {
    path: { type: "string", pattern: "^/", description: "an absolute path inside the node" },
    content: { type: "string", description: "text" },
    runtime: { enum: [...CONTAINER_RUNTIMES], description: CONTAINER_RUNTIMES.join(", ") },
  },
} as const;

export const descriptorSchema = {
  $id: "https://kubeyard.dev/schemas/addon-descriptor.json",
  type: "object",
  description: "a mapping with name, description, default and the addon's other fields",
  required: ["name", "description", "default"],
  additionalProperties: false,
  properties: {
    name: { type: "string", description: "the name of the addon's folder" },
    description: { type: "string", pattern: ONE_LINE, description: "one non-empty line of text" },
    default: { type: "boolean", description: "true or false" },
    alwaysOn: { type: "boolean", description: "true or false" },
    images: listOf(oneOf(knownImageNames()), `a list of image names (${knownImageNames().join(", ")})`),
    values: {
      type: "object",
      description: "a mapping of value name to {type, default, description}",
      propertyNames: { pattern: "^[A-Za-z][A-Za-z0-9]*$", description: "a name of letters and digits, starting with a letter" },
      additionalProperties: valueSpec,
    },
    readiness: listOf(readinessCheck, "a list of {kind, name, namespace?, apiVersion?, condition?}"),
    usage: { type: "string", description: "text" },
    manifestArtifacts: listOf(oneOf(ADDON_DATA), `a list of ${ADDON_DATA.join(", ")}`),
    keepOnDisable: listOf(oneOf(KEEPABLE_KINDS), `a list of ${KEEPABLE_KINDS.join(", ")}`),
    hostProbes: listOf(hostProbe, "a list of host probes"),
    nodeFiles: listOf(nodeFile, "a list of {path, content, runtime}"),
  },
  if: { required: ["alwaysOn"], properties: { alwaysOn: { const: true } } },
  then: { properties: { default: { const: true, description: "true: an alwaysOn addon is always enabled" } } },
} as const;
