import { UserError } from "../../util/errors.js";
import { result, type NodeImage, type RuntimeImageStore } from "./types.js";

/** containerd's namespace the kubelet's images live in. */
const CTR = ["ctr", "-n", "k8s.io"];

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

export const containerdImages: RuntimeImageStore = {
  has: async (driver, node, ref) => (await driver.exec(node, [...CTR, "images", "ls", "-q", `name==${ref}`])).stdout.trim() !== "",
  // --local: ctr reads the archive itself; without it (containerd 2's default) the archive is streamed
  // through the daemon's transfer service, which took twice as long for a 178 MB image.
  import: async (driver, node, archive) =>
    result(await driver.exec(node, [...CTR, "images", "import", "--local", "--all-platforms", archive])),
  tag: async (driver, node, source, target) => result(await driver.exec(node, [...CTR, "images", "tag", "--force", source, target])),
  async list(driver, node) {
    const r = await driver.exec(node, [...CTR, "images", "ls"]);
    if (r.exitCode !== 0) throw new UserError(`listing the images of ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    return parseCtrImages(r.stdout);
  },
  remove: async (driver, node, refs) => result(await driver.exec(node, [...CTR, "images", "rm", "--sync", ...refs])),
  async export(driver, node, refs, file) {
    const platform = `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
    return result(await driver.exec(node, [...CTR, "images", "export", "--platform", platform, file, ...refs]));
  },
};
