import type { Command } from "commander";
import { loadImages } from "../../src/cluster/image-load.js";
import { DockerDriver } from "../../src/drivers/docker/driver.js";
import { globals } from "./common.js";

export function registerImage(program: Command): void {
  const image = program.command("image").description("images on the cluster's nodes");
  image
    .command("load")
    .description("copy images from the host's container engine into every node")
    .argument("<images...>", "image references, e.g. myapp:dev")
    .action(async (refs: string[]) => {
      const driver = new DockerDriver();
      await driver.preflight();
      const nodes = await loadImages(driver.docker, driver, globals(program).profile, refs);
      process.stdout.write(`loaded ${refs.join(", ")} into ${nodes.join(", ")}\n`);
    });
}
