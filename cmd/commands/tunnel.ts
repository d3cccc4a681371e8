import { Option, type Command } from "commander";
import type { ForwardingChoice } from "../../src/tunnel/forwarding.js";
import { lazy } from "../lazy.js";

export function registerTunnel(program: Command): void {
  program
    .command("tunnel")
    .description("give every LoadBalancer Service an address this host reaches, until Ctrl-C")
    .addOption(
      new Option(
        "--mode <mode>",
        "route: addresses on the cluster's network, forwarded by the nodes (Linux); proxy: loopback addresses this process forwards; auto: route where the host reaches the network",
      )
        .choices(["auto", "route", "proxy"] satisfies ForwardingChoice[])
        .default("auto"),
    )
    .action(lazy(() => import("../actions/tunnel.js")));

  program
    .command("service")
    .description("print (or open in a browser) the URL of a NodePort or LoadBalancer Service, like `minikube service`")
    .argument("<name>", "the Service")
    .option("-n, --namespace <namespace>", "its namespace", "default")
    .option("--url", "only print the URLs, one a line", false)
    .action(lazy(() => import("../actions/service.js")));
}
