import pRetry from "p-retry";
import { CRIO_ENDPOINT } from "../../components/crio.js";
import { UserError } from "../../util/errors.js";
import { result, type CommandResult, type NodeImage, type RuntimeImageStore } from "./types.js";

const CRICTL = ["crictl", "--runtime-endpoint", CRIO_ENDPOINT, "--image-endpoint", CRIO_ENDPOINT];

interface CrictlImage {
  id: string;
  repoTags?: string[] | null;
  repoDigests?: string[] | null;
  size?: string;
}

/** `crictl images -o json` as one reference per tag, or per digest for an image without a tag. */
export function parseCrictlImages(json: string): NodeImage[] {
  const images = (JSON.parse(json) as { images?: CrictlImage[] | null }).images ?? [];
  const id = (i: CrictlImage) => (i.id.startsWith("sha256:") ? i.id : `sha256:${i.id}`);
  return images.flatMap((i) => {
    const refs = i.repoTags?.length ? i.repoTags : (i.repoDigests ?? []);
    return refs.map((ref) => ({ ref, digest: id(i), size: mebibytes(Number(i.size ?? 0)), platforms: "linux" }));
  });
}

class InUse extends Error {
  constructor(readonly answer: CommandResult) {
    super(answer.output);
  }
}

/**
 * CRI-O keeps an image while any container of it exists, a stopped one too; the containers of a pod just
 * deleted go when the kubelet next cleans up, within seconds. Until then it is asked again; a container
 * that stays (a running pod's) keeps CRI-O's answer.
 */
async function untilUnused(remove: () => Promise<CommandResult>): Promise<CommandResult> {
  try {
    return await pRetry(
      async () => {
        const r = await remove();
        if (!r.ok && /in use by a container/.test(r.output)) throw new InUse(r);
        return r;
      },
      { retries: 8, minTimeout: 500, factor: 1.5, maxTimeout: 3_000, randomize: false, shouldRetry: ({ error }) => error instanceof InUse },
    );
  } catch (err) {
    if (err instanceof InUse) return err.answer;
    throw err;
  }
}

function mebibytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * CRI-O's images go through the CRI (crictl) where it has the operation, and through kubeyard's
 * crio-image-load where it has not (importing an archive, adding a name): both work on the store
 * CRI-O reads, which containers-storage locks for them.
 */
export const crioImages: RuntimeImageStore = {
  // ImageStatus of exactly that reference: `crictl images REF` filters by repository and matched other images.
  has: async (driver, node, ref) => (await driver.exec(node, [...CRICTL, "inspecti", ref])).exitCode === 0,
  import: async (driver, node, archive) => result(await driver.exec(node, ["crio-image-load", archive])),
  tag: async (driver, node, source, target) => result(await driver.exec(node, ["crio-image-load", "-tag", source, target])),
  async list(driver, node) {
    const r = await driver.exec(node, [...CRICTL, "images", "-o", "json"]);
    if (r.exitCode !== 0) throw new UserError(`listing the images of ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    return parseCrictlImages(r.stdout);
  },
  remove: (driver, node, refs) => untilUnused(async () => result(await driver.exec(node, [...CRICTL, "rmi", ...refs]))),
  export: async (driver, node, refs, file) => result(await driver.exec(node, ["crio-image-load", "-save", file, ...refs])),
};
