import type { NodeDriver } from "../drivers/types.js";
import { checkImageRef } from "../config/image-ref.js";
import { nodeRuntime } from "../config/index.js";
import { readState } from "../cluster/state.js";
import { runtimeImages, type NodeImage, type RuntimeImageStore } from "./runtime/index.js";
import { UserError } from "../util/errors.js";
import { runningNodes } from "../cluster/running-nodes.js";

export type { NodeImage } from "./runtime/index.js";
export { parseCtrImages, parseCrictlImages } from "./runtime/index.js";

export interface NodeImages {
  node: string;
  images: NodeImage[];
}

/** The image store of the runtime cluster `cluster`'s nodes run, as its record says. */
export async function clusterImageStore(cluster: string): Promise<RuntimeImageStore> {
  return runtimeImages(nodeRuntime((await readState(cluster))?.config));
}

/** A bare `sha256:...` id or a `name@sha256:...` reference: the aliases the kubelet's runtime adds. */
function isAlias(ref: string): boolean {
  return ref.startsWith("sha256:") || ref.includes("@");
}

/**
 * The images a user thinks of: tagged references, and a digest reference only for an image that
 * has no tag; the runtime's bare-id aliases are left out.
 */
export function visibleImages(all: NodeImage[]): NodeImage[] {
  const tagged = new Set(all.filter((i) => !isAlias(i.ref)).map((i) => i.digest));
  return all
    .filter((i) => !i.ref.startsWith("sha256:") && (!isAlias(i.ref) || !tagged.has(i.digest)))
    .sort((a, b) => a.ref.localeCompare(b.ref));
}

/**
 * The reference as containerd stores it: `myapp:dev` is `docker.io/library/myapp:dev`, a missing
 * tag is `latest`, as the kubelet resolves the image names of a pod.
 */
export function normalizeImageRef(text: string): string {
  const problem = checkImageRef(text);
  if (problem) throw new UserError(`image "${text}" ${problem.problem}`, `Give ${problem.allowed}.`);
  const at = text.indexOf("@");
  const nameTag = at >= 0 ? text.slice(0, at) : text;
  const digest = at >= 0 ? text.slice(at) : "";
  const slash = nameTag.indexOf("/");
  const first = slash >= 0 ? nameTag.slice(0, slash) : "";
  const hasDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  let full = hasDomain ? nameTag : `docker.io/${slash >= 0 ? nameTag : `library/${nameTag}`}`;
  const lastPart = full.slice(full.lastIndexOf("/") + 1);
  if (!digest && !lastPart.includes(":")) full += ":latest";
  return full + digest;
}

/** The images a user thinks of (see visibleImages) in one node's runtime. */
export async function nodeImagesOf(driver: NodeDriver, node: string, store: RuntimeImageStore): Promise<NodeImage[]> {
  return visibleImages(await store.list(driver, node));
}

/** Writes the images (this machine's platform of each) as one archive at `fileInNode`, as `store.import` reads it. */
export async function exportNodeImages(
  driver: NodeDriver,
  node: string,
  refs: string[],
  fileInNode: string,
  store: RuntimeImageStore,
): Promise<void> {
  const r = await store.export(driver, node, refs, fileInNode);
  if (!r.ok) throw new UserError(`saving the images of ${node} failed: ${r.output}`);
}

/** What each node's runtime holds, per node. */
export async function listNodeImages(driver: NodeDriver, cluster: string): Promise<NodeImages[]> {
  const nodes = await runningNodes(driver, cluster);
  const store = await clusterImageStore(cluster);
  return Promise.all(nodes.map(async (n) => ({ node: n.name, images: await nodeImagesOf(driver, n.name, store) })));
}

/**
 * Removes the images from every node that has them, with the runtime's aliases of an image no other
 * tag still names. Each image must be on at least one node; otherwise nothing is removed.
 * Returns, per node, the references removed.
 */
export async function removeNodeImages(
  driver: NodeDriver,
  cluster: string,
  refs: string[],
): Promise<{ node: string; removed: string[] }[]> {
  if (!refs.length) throw new UserError("no images to remove", "Name them as `kubeyard image ls` shows them.");
  const wanted = [...new Set(refs.map(normalizeImageRef))];
  const nodes = await runningNodes(driver, cluster);
  const store = await clusterImageStore(cluster);
  const held = await Promise.all(nodes.map(async (n) => ({ node: n.name, all: await store.list(driver, n.name) })));
  const absent = wanted.filter((ref) => !held.some((h) => h.all.some((i) => i.ref === ref)));
  if (absent.length) {
    throw new UserError(
      `${absent.join(", ")} ${absent.length > 1 ? "are" : "is"} on none of the nodes of cluster "${cluster}"`,
      "`kubeyard image ls` lists the images each node has.",
    );
  }
  return Promise.all(held.map(async ({ node, all }) => ({ node, removed: await removeFromNode(driver, node, store, all, wanted) })));
}

/**
 * Removes the references `wanted` from one node, with the runtime's aliases of an image no other tag
 * still names; `all` is what the node holds (`store.list`). Returns the references removed.
 */
async function removeFromNode(
  driver: NodeDriver,
  node: string,
  store: RuntimeImageStore,
  all: NodeImage[],
  wanted: string[],
): Promise<string[]> {
  const remove = new Set(all.filter((i) => wanted.includes(i.ref)).map((i) => i.ref));
  if (!remove.size) return [];
  const digests = new Set(all.filter((i) => remove.has(i.ref)).map((i) => i.digest));
  for (const d of digests) {
    const stillTagged = all.some((i) => i.digest === d && !isAlias(i.ref) && !remove.has(i.ref));
    if (!stillTagged) for (const i of all) if (i.digest === d && isAlias(i.ref)) remove.add(i.ref);
  }
  const list = [...remove];
  const r = await store.remove(driver, node, list);
  if (!r.ok) throw new UserError(`removing ${list.join(", ")} from ${node} failed: ${r.output}`);
  return list.filter((ref) => wanted.includes(ref));
}

/** Removes from one node every image (as `nodeImagesOf` lists them) that `keep` does not name; returns those removed. */
export async function removeNodeImagesExcept(
  driver: NodeDriver,
  node: string,
  keep: ReadonlySet<string>,
  store: RuntimeImageStore,
): Promise<string[]> {
  const all = await store.list(driver, node);
  const extra = visibleImages(all)
    .map((i) => i.ref)
    .filter((ref) => !keep.has(ref));
  return removeFromNode(driver, node, store, all, extra);
}
