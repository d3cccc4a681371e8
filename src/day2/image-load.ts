import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { NodeDriver } from "../drivers/types.js";
import { clusterImageStore } from "../node/images.js";
import type { RuntimeImageStore } from "../node/runtime/index.js";
import { withFileInNode } from "../node/spool.js";
import { UserError } from "../util/errors.js";
import { runningNodes } from "../cluster/running-nodes.js";
import { archivedImages, missingNames, type ImageAlias } from "./archive-names.js";

/** Where archives wait in a node until containerd has imported them: on its /var volume, not a tmpfs. */
const NODE_SPOOL = "/var/lib/kubeyard/image-load";

export interface LoadRequest {
  /** Image references in the host's engine. */
  images: string[];
  /** Image archives on the host (`docker save` or OCI layout tars). */
  archives: string[];
}

export interface LoadResult {
  nodes: string[];
  /** Bytes of archive copied into each node. */
  bytes: number;
}

/**
 * Copies images into every node's containerd (the k8s.io namespace the kubelet uses): the host's
 * images are exported once into one archive (layers they share are written once), each archive is
 * copied into all nodes in parallel and imported there. Pods then use the images with
 * imagePullPolicy Never or IfNotPresent, no registry involved. Everything is checked first: a
 * missing image, an unreadable archive or a node that is not running fails before any copying.
 */
export async function loadImages(driver: NodeDriver, cluster: string, req: LoadRequest): Promise<LoadResult> {
  if (!req.images.length && !req.archives.length) {
    throw new UserError(
      "no images to load",
      "Name images of the host's engine (`kubeyard image load myapp:dev`) or give --archive FILE.tar.",
    );
  }
  const missing: string[] = [];
  const found: { ref: string; id: string }[] = [];
  for (const ref of req.images) {
    const info = await driver.images.inspect(ref);
    if (info) found.push({ ref, id: info.id });
    else missing.push(ref);
  }
  if (missing.length) {
    throw new UserError(
      `image${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not in the host's container engine`,
      "Build or pull it first (`docker images` lists what is there), or give an archive with --archive FILE.tar.",
    );
  }
  for (const file of req.archives) await checkArchive(file);
  const nodes = await runningNodes(driver, cluster);

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kubeyard-images-"));
  try {
    const archives = req.archives.map((f) => path.resolve(f));
    let aliases: ImageAlias[] = [];
    if (req.images.length) {
      const saved = path.join(dir, "images.tar");
      await driver.images.save(req.images, saved);
      archives.unshift(saved);
      aliases = missingNames(found, await archivedImages(saved));
    }
    let bytes = 0;
    for (const a of archives) bytes += (await fs.stat(a)).size;
    const store = await clusterImageStore(cluster);
    await Promise.all(nodes.map((n) => importInto(driver, store, n.name, archives, aliases)));
    return { nodes: nodes.map((n) => n.name), bytes };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Copies each archive into the node and imports it (the copy in the node is removed whatever happens),
 * then gives the imported images the names the user asked for them by, where the archive named them otherwise.
 */
async function importInto(
  driver: NodeDriver,
  store: RuntimeImageStore,
  node: string,
  archives: string[],
  aliases: ImageAlias[],
): Promise<void> {
  for (const archive of archives) {
    await withFileInNode(driver, node, archive, NODE_SPOOL, async (inNode) => {
      const r = await store.import(driver, node, inNode);
      if (!r.ok) throw new UserError(`importing ${path.basename(archive)} into ${node} failed: ${r.output}`);
    });
  }
  for (const { source, target } of aliases) {
    const r = await store.tag(driver, node, source, target);
    if (!r.ok) throw new UserError(`naming ${source} ${target} in ${node} failed: ${r.output}`);
  }
}

/** A readable file that starts like a tar archive (the "ustar" magic of its first header). */
export async function checkArchive(file: string): Promise<void> {
  const accepted = "a tar archive of images, as `docker save -o FILE.tar` or an OCI image layout tar writes";
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      `--archive ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message}`,
      `Give ${accepted}.`,
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UserError(`--archive ${file}: not a regular file`, `Give ${accepted}.`);
    const header = Buffer.alloc(512);
    const { bytesRead } = await handle.read(header, 0, 512, 0);
    if (bytesRead < 512 || header.toString("latin1", 257, 262) !== "ustar") {
      throw new UserError(`--archive ${file}: not a tar archive`, `Give ${accepted} (compressed archives are not accepted).`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EISDIR") throw new UserError(`--archive ${file}: is a directory`, `Give ${accepted}.`);
    throw err;
  } finally {
    await handle.close();
  }
}
