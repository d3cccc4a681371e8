import type { Command } from "commander";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";
import { collect } from "./common.js";

export function registerImage(program: Command): void {
  const image = program.command("image").description("images on the cluster's nodes");
  image
    .command("load")
    .description("copy images from the host's container engine (or image archives) into every node's containerd")
    .argument("[images...]", "image references in the host's engine, e.g. myapp:dev")
    .option("--archive <file>", "also load this image archive (`docker save` or OCI tar); repeatable", collect, [] as string[])
    .action(lazy(() => import("../actions/image-load.js")));

  image
    .command("build")
    .description("build an image with the host's container engine and load it into every node's containerd")
    .argument("<dir>", "the folder to build (the build context)")
    .requiredOption("-t, --tag <name>", "the image's name and optional tag, e.g. myapp:dev")
    .option("-f, --file <dockerfile>", "the Dockerfile, inside the folder (default: DIR/Dockerfile)")
    .option("--build-arg <name=value>", "a build argument; repeatable", collect, [] as string[])
    .action(lazy(() => import("../actions/image-build.js")));

  image
    .command("ls")
    .alias("list")
    .description("the images in each node's containerd")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/image-ls.js")));

  image
    .command("rm")
    .alias("remove")
    .description("remove images from every node that has them")
    .argument("<images...>", "image references as `kubeyard image ls` shows them (myapp:dev means docker.io/library/myapp:dev)")
    .action(lazy(() => import("../actions/image-rm.js")));
}
