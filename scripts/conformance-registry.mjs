// A local registry that stands in for registry.k8s.io inside the conformance cluster. Some specs pull
// their images with `imagePullPolicy: Always`; offline, the real registry cannot answer, so those pods
// would stay in ImagePullBackOff although the image is on every node. The stand-in serves the test
// images kubeyard built, and each node's containerd asks it first for registry.k8s.io (a registry host
// file, the same mechanism as `kubeyard registry-mirror`, written only into this dedicated cluster).
import { execa } from "execa";
import { ArtifactCache } from "../dist/src/artifacts/cache.js";
import { ensureStandaloneImage } from "../dist/src/artifacts/images.js";
import { registryHostFile } from "../dist/src/mirror/hosts-toml.js";
import { findVersion } from "../dist/src/versions/versions.js";

const UPSTREAM = "registry.k8s.io";
const PORT = 5000;

async function docker(...args) {
  return (await execa("docker", args)).stdout.trim();
}

/** The cluster network a node is on: the stand-in joins it so containerd reaches it by name. */
async function networkOf(node) {
  const names = await docker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", node);
  const network = names.split(" ").find((n) => n.startsWith("kubeyard-"));
  if (!network) throw new Error(`node ${node} is on no kubeyard network (${names || "none"})`);
  return network;
}

/**
 * Starts the stand-in for `profile`'s cluster, pushes every registry.k8s.io reference of `refs` to it
 * and points the nodes' containerd at it. Returns what removes the stand-in again.
 */
export async function startRegistryStandIn({ driver, profile, kubernetes, refs, say }) {
  const nodes = (await driver.listNodes(profile)).filter((n) => n.role !== "load-balancer");
  if (!nodes.length) throw new Error(`cluster ${profile} has no nodes`);
  const image = await ensureStandaloneImage(driver.images, "registry", findVersion(kubernetes), {
    cache: new ArtifactCache(),
    source: "auto",
    onStep: (s) => say(`  registry image: ${s}`),
  });
  const name = `kubeyard-conformance-registry-${profile}`;
  await execa("docker", ["rm", "-f", "-v", name], { reject: false });
  // On loopback for the host's pushes (the engine pushes to 127.0.0.1 without TLS), on the cluster network for the nodes.
  await docker("run", "-d", "--name", name, "--network", await networkOf(nodes[0].name), "-p", `127.0.0.1:0:${PORT}`, image);
  const remove = () => execa("docker", ["rm", "-f", "-v", name], { reject: false });
  try {
    const local = (await docker("port", name, `${PORT}/tcp`)).split("\n").find((p) => p.startsWith("127.0.0.1:"));
    const served = refs.filter((r) => r.startsWith(`${UPSTREAM}/`));
    for (const [i, ref] of served.entries()) {
      say(`  stand-in for ${UPSTREAM} ${i + 1}/${served.length}: ${ref}`);
      const target = `${local}/${ref.slice(UPSTREAM.length + 1)}`;
      await docker("tag", ref, target);
      try {
        await docker("push", "-q", target);
      } finally {
        await docker("rmi", target);
      }
    }
    const file = registryHostFile(UPSTREAM, `http://${name}:${PORT}`);
    await Promise.all(nodes.map((n) => driver.copyFiles(n.name, [file])));
    return remove;
  } catch (err) {
    await remove();
    throw err;
  }
}
