import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { formatPath, renderValue, type ConfigIssue, type PathSegment } from "./issues.js";
import type { YamlSource } from "./yaml-source.js";

/**
 * Checks a YAML file's structure against a JSON Schema and turns every failure into a located issue.
 * Each schema `description` is what a message offers as allowed there; `keyName` on a mapping is what
 * its keys are called when one is unknown ("component"; "field" when absent).
 */
export function checkSchema(src: YamlSource, schema: object): ConfigIssue[] {
  const validate = validator(schema);
  if (validate(src.data)) return [];
  const errors = validate.errors ?? [];
  // A value of the wrong type fails its other keywords too (an enum, a pattern); its type is what to fix.
  const mistyped = new Set(errors.filter((e) => e.keyword === "type").map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === "type" || !mistyped.has(e.instancePath)).flatMap((e) => toIssue(e, src));
}

// verbose: errors carry their schema, whose description says what is allowed.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false }).addVocabulary(["keyName"]);
const compiled = new WeakMap<object, ValidateFunction>();
function validator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = ajv.compile(schema)));
  return v;
}

interface SchemaNode {
  description?: string;
  keyName?: string;
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  minimum?: number;
  maximum?: number;
}

function toIssue(e: ErrorObject, src: YamlSource): ConfigIssue[] {
  const path = instancePath(e.instancePath, src.data);
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const at = (p: PathSegment[], where: "key" | "value" = "value") => ({ file: src.file, ...src.locate(p, where), field: formatPath(p) });
  const value = renderValue(e.data);
  if (e.propertyName !== undefined) {
    // A key that fails `propertyNames`: the key is the value in question.
    const key = e.propertyName;
    return [{ ...at([...path, key], "key"), value: JSON.stringify(key), problem: "is not allowed", allowed: describe(parent) }];
  }
  switch (e.keyword) {
    case "if":
    case "propertyNames":
      // The branch or the key that failed reports its own errors.
      return [];
    case "additionalProperties": {
      const key = String(e.params.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      const what = parent.keyName ?? "field";
      return [{ ...at([...path, key], "key"), value: JSON.stringify(key), problem: `is not a known ${what}`, allowed: known.join(", ") }];
    }
    case "required": {
      const key = String(e.params.missingProperty);
      const field = parent.properties?.[key];
      return [{ ...at(path), field: formatPath([...path, key]), problem: "is missing", allowed: describe(field) }];
    }
    case "type":
      if (path.length === 0 && e.data == null) {
        return [{ ...at(path), problem: "the file is empty", allowed: describe(parent) }];
      }
      return [{ ...at(path), value, problem: typeProblem(e.data), allowed: describe(parent) ?? `a ${String(e.params.type)}` }];
    case "enum": {
      const allowed = describe(parent) ?? (e.params.allowedValues as unknown[]).join(", ");
      return [{ ...at(path), value, problem: "is not allowed", allowed }];
    }
    case "const":
    case "pattern":
    case "minLength":
    case "maxLength":
    case "not":
      return [{ ...at(path), value, problem: "is not allowed", allowed: describe(parent) }];
    case "minimum":
    case "maximum":
      return [{ ...at(path), value, problem: "is out of range", allowed: describe(parent) }];
    case "minItems":
      return [{ ...at(path), value: "an empty list", problem: "is not allowed", allowed: describe(parent) }];
    default:
      return [{ ...at(path), value, problem: e.message ?? "is not allowed", allowed: describe(parent) }];
  }
}

function describe(s: SchemaNode | undefined): string | undefined {
  if (!s) return undefined;
  return s.description ?? (s.const !== undefined ? String(s.const) : undefined);
}

/** Follows renderValue(v), which already names collections and empty values. */
function typeProblem(v: unknown): string {
  if (v === null || typeof v === "object") return "is not accepted here";
  if (typeof v === "number") return Number.isInteger(v) ? "is an integer" : "is a number";
  if (typeof v === "boolean") return "is a boolean";
  return `is a ${typeof v}`;
}

/** "/nodes/1/role" -> ["nodes", 1, "role"], with indexes only where the data is a list. */
function instancePath(pointer: string, data: unknown): PathSegment[] {
  if (!pointer) return [];
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
