import * as tar from "tar";
import { normalizeImageRef } from "../node/images.js";

/** One image of a `docker save` archive: its config's digest and the names the archive gives it. */
export interface ArchivedImage {
  configDigest: string;
  tags: string[];
}

/** A name to add to an image in a node: `target` for the image containerd imported as `source`. */
export interface ImageAlias {
  source: string;
  target: string;
}

/**
 * The images an archive's manifest.json lists. The config's file name carries its digest in every
 * form seen: `<hex>.json` (Docker's classic save, Podman) and `blobs/sha256/<hex>` (Docker's OCI layout).
 */
export async function archivedImages(file: string): Promise<ArchivedImage[]> {
  let manifest = "";
  await tar.t({
    file,
    onReadEntry: (e) => (e.path === "manifest.json" ? e.on("data", (c: Buffer) => (manifest += String(c))) : e.resume()),
  });
  if (!manifest) return [];
  return (JSON.parse(manifest) as { Config: string; RepoTags?: string[] | null }[]).flatMap((m) => {
    const hex = /([0-9a-f]{64})(?:\.json)?$/.exec(m.Config)?.[1];
    return hex ? [{ configDigest: `sha256:${hex}`, tags: m.RepoTags ?? [] }] : [];
  });
}

/**
 * The names a pod spec would give the requested images but the archive does not, each paired with a
 * name it does give. Podman writes the name it resolved a short name to: `myapp:dev`, built with
 * Podman, is `localhost/myapp:dev` in its archive, while a pod's `image: myapp:dev` means
 * docker.io/library/myapp:dev to containerd. An image asked for by its ID has no name to add.
 */
export function missingNames(requested: readonly { ref: string; id: string }[], archived: readonly ArchivedImage[]): ImageAlias[] {
  const aliases: ImageAlias[] = [];
  for (const { ref, id } of requested) {
    if (id.replace(/^sha256:/, "").startsWith(ref.replace(/^sha256:/, ""))) continue;
    const names = (archived.find((a) => a.configDigest === id)?.tags ?? []).map(normalizeImageRef);
    const target = normalizeImageRef(ref);
    if (names.length && !names.includes(target) && !aliases.some((a) => a.target === target)) {
      aliases.push({ source: names[0]!, target });
    }
  }
  return aliases;
}
