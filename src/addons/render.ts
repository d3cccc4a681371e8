import path from "node:path";
import { applyOrder } from "../kube/apply-order.js";
import { describeRef, refOf, type KubeObject } from "../kube/types.js";
import type { Addon } from "./catalog.js";
import type { AddonContext } from "./context.js";
import { addonLabels } from "./labels.js";
import { resolveValues } from "./values.js";

/**
 * `${root.key}`, where root is cluster, images, values or ports. `$${...}` stands for a literal `${...}`;
 * a `${VAR}` without a dot (a shell variable in a script) is not a reference and is left alone.
 */
const REFERENCE = /\$(\$?)\{([A-Za-z_]\w*)\.([A-Za-z_]\w*)\}/g;
const WHOLE_REFERENCE = /^\$\{([A-Za-z_]\w*)\.([A-Za-z_]\w*)\}$/;
const ROOTS = ["cluster", "images", "values", "ports"] as const;

/** Where a reference was written, for error messages. */
interface Site {
  file: string;
  doc: string;
  field: string;
}

/**
 * The addon's objects for one cluster, in apply order, each labelled as the addon's. Values go into
 * the parsed manifests, never into YAML text: a string field that is exactly one reference takes
 * the referenced value with its type (`replicas: ${values.replicas}` becomes a number), and a
 * reference inside a longer string is replaced by its text. Nothing a value holds can change the
 * structure of a manifest. An unknown reference fails naming the file, object and field.
 */
export function renderAddon(addon: Addon, ctx: AddonContext): KubeObject[] {
  const lookup = scopeOf(addon, ctx);
  const objects: KubeObject[] = [];
  for (const manifest of addon.manifests) {
    const file = path.relative(path.dirname(addon.dir), manifest.file);
    for (const doc of manifest.documents) {
      const siteOf = (field: string): Site => ({ file, doc: describeRef(refOf(doc)), field });
      const obj = (
        manifest.verbatim
          ? structuredClone(doc)
          : substitute(doc, "", (text, field) => renderString(text, (root, key) => lookup(root, key, siteOf(field))))
      ) as KubeObject;
      obj.metadata = { ...obj.metadata, labels: { ...obj.metadata?.labels, ...addonLabels(addon.name) } };
      objects.push(obj);
    }
  }
  return applyOrder(objects);
}

/** Looks up `${root.key}` references for one addon and cluster; an unknown one fails saying where. */
function scopeOf(addon: Addon, ctx: AddonContext): (root: string, key: string, site: Site) => unknown {
  const values = ctx.values ?? resolveValues(addon);
  // Only the images the descriptor lists may be used, so its list is what the addon really needs.
  const images = Object.fromEntries(addon.images.map((name) => [name, ctx.images[name]]));
  const scope: Record<(typeof ROOTS)[number], Record<string, unknown>> = {
    cluster: { ...ctx.cluster },
    images,
    values,
    ports: { ...ctx.ports },
  };
  return (root: string, key: string, site: Site): unknown => {
    const where = `${site.file}: ${site.doc}, field ${site.field}`;
    if (!(ROOTS as readonly string[]).includes(root)) {
      throw new Error(`${where}: \${${root}.${key}} refers to "${root}", which is not one of ${ROOTS.join(", ")}`);
    }
    const table = scope[root as (typeof ROOTS)[number]];
    if (!Object.hasOwn(table, key) || table[key] === undefined) {
      const known = Object.keys(table);
      const extra = root === "images" ? ` (images must be listed in ${addon.name}'s addon.yaml)` : "";
      throw new Error(`${where}: \${${root}.${key}} is unknown${extra}; known: ${known.length ? known.join(", ") : "none"}`);
    }
    return table[key];
  };
}

/**
 * A text of the addon's descriptor (a node file, the usage text) with its references filled in;
 * `field` names it in errors.
 */
export function renderText(addon: Addon, ctx: AddonContext, text: string, field: string): string {
  const lookup = scopeOf(addon, ctx);
  const site: Site = { file: `${addon.name}/addon.yaml`, doc: "descriptor", field };
  return text.replace(REFERENCE, (all, escape: string, root: string, key: string) =>
    escape ? all.slice(1) : String(lookup(root, key, site)),
  );
}

/** A copy of `node` with every string passed through `onString`. */
function substitute(node: unknown, field: string, onString: (text: string, field: string) => unknown): unknown {
  if (typeof node === "string") return onString(node, field || "(root)");
  if (Array.isArray(node)) return node.map((item, i) => substitute(item, `${field}[${i}]`, onString));
  if (node !== null && typeof node === "object") {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, substitute(value, field ? `${field}.${key}` : key, onString)]),
    );
  }
  return node;
}

function renderString(text: string, lookup: (root: string, key: string) => unknown): unknown {
  const whole = WHOLE_REFERENCE.exec(text);
  if (whole) return lookup(whole[1]!, whole[2]!);
  return text.replace(REFERENCE, (all, escape: string, root: string, key: string) => (escape ? all.slice(1) : String(lookup(root, key))));
}
