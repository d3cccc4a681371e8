import type { NodeDriver } from "../drivers/types.js";
import { checkImageRef } from "../config/image-ref.js";
import { UserError } from "../util/errors.js";
import { runningNodes } from "../cluster/running-nodes.js";

/** One reference in a node's containerd (namespace k8s.io), as `ctr images ls` reports it. */
export interface NodeImage {
  ref: string;
  digest: string;
  /** As containerd reports it, e.g. "4.1 MiB". */
  size: string;
  platforms: string;
}

export interface NodeImages {
  node: string;
  images: NodeImage[];
}

/** containerd's namespace the kubelet's images live in. */
const CTR = ["ctr", "-n", "k8s.io"];

/** Whether the node's containerd holds the image. */
export async function nodeHasImage(driver: NodeDriver, node: string, ref: string): Promise<boolean> {
  return (await driver.exec(node, [...CTR, "images", "ls", "-q", `name==${ref}`])).stdout.trim() !== "";
}

/**
 * Imports an image archive already copied into the node. --local: ctr reads the archive itself; without
 * it (containerd 2's default) the archive is streamed through the daemon's transfer service, which took
 * twice as long for a 178 MB image.
 */
export async function importNodeImages(driver: NodeDriver, node: string, archiveInNode: string): Promise<{ ok: boolean; output: string }> {
  const r = await driver.exec(node, [...CTR, "images", "import", "--local", "--all-platforms", archiveInNode]);
  return { ok: r.exitCode === 0, output: r.stderr.trim() || r.stdout.trim() };
}

/** Gives the image `source` of the node's containerd the further name `target` (replacing what `target` named). */
export async function tagNodeImage(
  driver: NodeDriver,
  node: string,
  source: string,
  target: string,
): Promise<{ ok: boolean; output: string }> {
  const r = await driver.exec(node, [...CTR, "images", "tag", "--force", source, target]);
  return { ok: r.exitCode === 0, output: r.stderr.trim() || r.stdout.trim() };
}

const CTR_LINE = /^(\S+)\s+(\S+)\s+(sha256:[0-9a-f]{64})\s+(.+?)\s+(\S+)\s+(\S+)\s*$/;

/** Parses `ctr images ls` (REF TYPE DIGEST SIZE PLATFORMS LABELS). */
export function parseCtrImages(text: string): NodeImage[] {
  const out: NodeImage[] = [];
  for (const line of text.split("\n")) {
    const m = CTR_LINE.exec(line.trimEnd());
    if (!m || m[1] === "REF") continue;
    out.push({ ref: m[1]!, digest: m[3]!, size: m[4]!, platforms: m[5]! });
  }
  return out;
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

async function ctrImages(driver: NodeDriver, node: string): Promise<NodeImage[]> {
  const r = await driver.exec(node, [...CTR, "images", "ls"]);
  if (r.exitCode !== 0) throw new UserError(`listing the images of ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseCtrImages(r.stdout);
}

/** The images a user thinks of (see visibleImages) in one node's containerd. */
export async function nodeImagesOf(driver: NodeDriver, node: string): Promise<NodeImage[]> {
  return visibleImages(await ctrImages(driver, node));
}

/** Writes the images (this machine's platform of each) as one archive at `fileInNode`, as `importNodeImages` reads it. */
export async function exportNodeImages(driver: NodeDriver, node: string, refs: string[], fileInNode: string): Promise<void> {
  const platform = `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
  const r = await driver.exec(node, [...CTR, "images", "export", "--platform", platform, fileInNode, ...refs]);
  if (r.exitCode !== 0) throw new UserError(`saving the images of ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

/** What each node's containerd holds, per node. */
export async function listNodeImages(driver: NodeDriver, cluster: string): Promise<NodeImages[]> {
  const nodes = await runningNodes(driver, cluster);
  return Promise.all(nodes.map(async (n) => ({ node: n.name, images: await nodeImagesOf(driver, n.name) })));
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
  const held = await Promise.all(nodes.map(async (n) => ({ node: n.name, all: await ctrImages(driver, n.name) })));
  const absent = wanted.filter((ref) => !held.some((h) => h.all.some((i) => i.ref === ref)));
  if (absent.length) {
    throw new UserError(
      `${absent.join(", ")} ${absent.length > 1 ? "are" : "is"} on none of the nodes of cluster "${cluster}"`,
      "`kubeyard image ls` lists the images each node has.",
    );
  }
  return Promise.all(held.map(async ({ node, all }) => ({ node, removed: await removeFromNode(driver, node, all, wanted) })));
}

/**
 * Removes the references `wanted` from one node, with the runtime's aliases of an image no other tag
 * still names; `all` is what the node holds (`ctr images ls`). Returns the references removed.
 */
async function removeFromNode(driver: NodeDriver, node: string, all: NodeImage[], wanted: string[]): Promise<string[]> {
  const remove = new Set(all.filter((i) => wanted.includes(i.ref)).map((i) => i.ref));
  if (!remove.size) return [];
  const digests = new Set(all.filter((i) => remove.has(i.ref)).map((i) => i.digest));
  for (const d of digests) {
    const stillTagged = all.some((i) => i.digest === d && !isAlias(i.ref) && !remove.has(i.ref));
    if (!stillTagged) for (const i of all) if (i.digest === d && isAlias(i.ref)) remove.add(i.ref);
  }
  const list = [...remove];
  const r = await driver.exec(node, [...CTR, "images", "rm", "--sync", ...list]);
  if (r.exitCode !== 0) throw new UserError(`removing ${list.join(", ")} from ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  return list.filter((ref) => wanted.includes(ref));
}

/** Removes from one node every image (as `nodeImagesOf` lists them) that `keep` does not name; returns those removed. */
export async function removeNodeImagesExcept(driver: NodeDriver, node: string, keep: ReadonlySet<string>): Promise<string[]> {
  const all = await ctrImages(driver, node);
  const extra = visibleImages(all)
    .map((i) => i.ref)
    .filter((ref) => !keep.has(ref));
  return removeFromNode(driver, node, all, extra);
}
