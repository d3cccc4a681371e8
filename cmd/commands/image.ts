import type { Command } from "commander";
import { humanBytes, parseOutput, printJson, printTable } from "../ui/print.js";
import { engineDriver, globals } from "./common.js";

export function registerImage(program: Command): void {
  const image = program.command("image").description("images on the cluster's nodes");
  image
    .command("load")
    .description("copy images from the host's container engine (or image archives) into every node's containerd")
    .argument("[images...]", "image references in the host's engine, e.g. myapp:dev")
    .option("--archive <file>", "also load this image archive (`docker save` or OCI tar); repeatable", collect, [] as string[])
    .action(async (refs: string[], opts: { archive: string[] }) => {
      const { loadImages } = await import("../../src/day2/image-load.js");
      const driver = await engineDriver();
      const r = await loadImages(driver, globals(program).profile, { images: refs, archives: opts.archive });
      const what = [...refs, ...opts.archive].join(", ");
      process.stdout.write(`loaded ${what} (${humanBytes(r.bytes)}) into ${r.nodes.join(", ")}\n`);
    });

  image
    .command("ls")
    .alias("list")
    .description("the images in each node's containerd")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(async (opts: { output: "text" | "json" }) => {
      const { listNodeImages } = await import("../../src/node/images.js");
      const driver = await engineDriver();
      const perNode = await listNodeImages(driver, globals(program).profile);
      if (opts.output === "json") return printJson(perNode);
      printTable(
        ["NODE", "IMAGE", "DIGEST", "SIZE"],
        perNode.flatMap((n) => n.images.map((i) => [n.node, i.ref, i.digest.slice(7, 19), i.size])),
      );
    });

  image
    .command("rm")
    .alias("remove")
    .description("remove images from every node that has them")
    .argument("<images...>", "image references as `kubeyard image ls` shows them (myapp:dev means docker.io/library/myapp:dev)")
    .action(async (refs: string[]) => {
      const { removeNodeImages } = await import("../../src/node/images.js");
      const driver = await engineDriver();
      const result = await removeNodeImages(driver, globals(program).profile, refs);
      for (const r of result) if (r.removed.length) process.stdout.write(`removed ${r.removed.join(", ")} from ${r.node}\n`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
