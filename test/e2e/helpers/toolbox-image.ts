import { execa } from "execa";

/** A test image with curl and bash: kubeyard's own Debian base image under another name. */
export const TOOLBOX_IMAGE = "kubeyard/toolbox:e2e";

/** Tags the base image (built with the node image, so always present) as TOOLBOX_IMAGE in the host's engine. */
export async function tagToolboxImage(): Promise<string> {
  const { stdout } = await execa("docker", ["images", "kubeyard/base", "--format", "{{.Repository}}:{{.Tag}}"]);
  const base = stdout.split("\n").find((l) => l && !l.endsWith(":<none>"));
  if (!base) throw new Error("no kubeyard/base image in the engine: the node image build should have made one");
  await execa("docker", ["tag", base, TOOLBOX_IMAGE]);
  return TOOLBOX_IMAGE;
}
