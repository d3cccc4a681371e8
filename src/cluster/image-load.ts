import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { inspectImage, saveImages } from "../drivers/docker/images.js";
import type { NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";

/**
 * Copies images from the host's engine into every node's containerd (the k8s.io namespace the
 * kubelet uses): exported once, imported by all nodes in parallel. Pods then use them with
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
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kubeyard-images-"));
  try {
    const archive = path.join(dir, "images.tar");
    await saveImages(docker, refs, archive);
    const data = await fs.readFile(archive);
    await Promise.all(
      nodes.map(async (n) => {
        const r = await driver.exec(n.name, ["ctr", "-n", "k8s.io", "images", "import", "--all-platforms", "-"], { stdin: data });
        if (r.exitCode !== 0) throw new UserError(`importing into ${n.name} failed: ${r.stderr.trim() || r.stdout.trim()}`);
      }),
    );
    return nodes.map((n) => n.name);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
