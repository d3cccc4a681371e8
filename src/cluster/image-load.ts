import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { imageArchive, inspectImage } from "../drivers/docker/images.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/**
 * Copies images from the host's engine into every node's containerd (the k8s.io namespace the
 * kubelet uses): exported once, streamed into all nodes' imports in parallel. Pods then use them with
 * imagePullPolicy IfNotPresent, no registry involved.
 */
export async function loadImages(docker: Docker, driver: NodeDriver, cluster: string, refs: string[]): Promise<string[]> {
  for (const ref of refs) {
    if (!(await inspectImage(docker, ref))) throw new UserError(`image ${ref} is not in the host's container engine`, "Build or pull it first (`docker images` lists what is there).");
  }
  const nodes = (await driver.listNodes(cluster)).filter((n) => n.role !== "load-balancer");
  if (!nodes.length) throw new UserError(`there is no cluster "${cluster}"`);
  const stopped = nodes.filter((n) => n.state !== "running");
  if (stopped.length) throw new UserError(`node ${stopped[0]!.name} is ${stopped[0]!.state}`, "Start the cluster first.");
  // The archive streams from the engine straight into every node's import, side by side: nothing
  // waits for the whole export, and nothing of it lands on the host's disk.
  const archive = await imageArchive(docker, refs);
  const copies = nodes.map(() => new PassThrough({ highWaterMark: 4 << 20 }));
  archive.on("error", (err: Error) => copies.forEach((c) => c.destroy(err)));
  for (const c of copies) archive.pipe(c);
  await Promise.all(
    nodes.map(async (n, i) => {
      const r = await driver.exec(n.name, ["ctr", "-n", "k8s.io", "images", "import", "--all-platforms", "-"], { stdin: copies[i] });
      // A node that stopped reading must not hold the others up.
      copies[i]!.resume();
      if (r.exitCode !== 0) throw new UserError(`importing into ${n.name} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    }),
  );
  return nodes.map((n) => n.name);
}
