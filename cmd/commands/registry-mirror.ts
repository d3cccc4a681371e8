import type { Command } from "commander";
import { lazy } from "../lazy.js";
import { parseOutput } from "../ui/print.js";
import { addSourceOptions, collect } from "./common.js";

export function registerRegistryMirror(program: Command): void {
  const mirror = program
    .command("registry-mirror")
    .description("one pull-through cache of docker.io, registry.k8s.io, ghcr.io and quay.io for every cluster, kept across delete");

  addSourceOptions(
    mirror
      .command("start")
      .description("run the mirrors (or change their upstreams) and point every cluster's nodes at them")
      .option(
        "--upstream <registry=url>",
        "where a registry's images come from (repeatable): replaces a default's address or adds a registry, e.g. docker.io=https://mirror.example:5000",
        collect,
        [],
      ),
  ).action(lazy(() => import("../actions/registry-mirror-start.js")));

  mirror
    .command("stop")
    .description("remove the mirrors; nodes pull from the registries themselves again")
    .option("--delete-cache", "also delete what the mirrors cached", false)
    .action(lazy(() => import("../actions/registry-mirror-stop.js")));

  mirror
    .command("status")
    .description("show each mirror: registry, upstream, state, the clusters it serves")
    .option("-o, --output <format>", "text or json", parseOutput, "text")
    .action(lazy(() => import("../actions/registry-mirror-status.js")));
}
