import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterForFile } from "./helpers/cluster-for-file.js";
import { eventually } from "../helpers/poll.js";
import { apply, rolledOut } from "./helpers/kubectl.js";
import { allAnswer, lbServices, serves, udpAsk } from "./helpers/lb-services.js";
import { TunnelProcess } from "./helpers/tunnel-process.js";

/*
 * `kubeyard tunnel` where the host routes to the cluster's network (Linux): each LoadBalancer
 * Service gets an address from the last quarter of that network, a node takes it on, and the nodes'
 * kube-proxy forwards what arrives for it. The tunnel process carries no traffic; it only assigns
 * the addresses, and removes them when it stops (or, after a SIGKILL, when the next one starts).
 */

const NS = "route";
const { user, profile } = clusterForFile("e2e-tunr", { namespaces: [NS] });
const { k, deployment, lbService, waitIngress, waitNoIngress, podNames, serviceMovedToPort8088 } = lbServices(user, profile, NS);
const node = `${profile}-control-plane`;

/** The addresses a tunnel put on the node (they carry its label). */
async function nodeAddresses(): Promise<string[]> {
  const r = await user.kubeyard(["-p", profile, "ssh", node, "--", "ip", "-o", "-4", "addr", "show", "dev", "eth0", "label", "eth0:kyt"]);
  return [...String(r.stdout).matchAll(/inet (\S+)\/32/g)].map((m) => m[1]!).sort();
}

/** An HTTP request that must not be answered: kube-proxy drops it, so it times out or is reset. */
function unanswered(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false, timeout: 3_000 }, (res) => {
        res.resume();
        resolve(false);
      })
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy();
      })
      .on("error", () => resolve(true));
  });
}

describe("kubeyard tunnel, forwarded by the nodes", () => {
  let tunnel: TunnelProcess;
  let webIP = "";
  let pods: string[] = [];
  let gateway = "";

  beforeAll(async () => {
    await apply(user, deployment("web", 3));
    await apply(
      user,
      lbService("web", "web", "", "[{name: http, port: 80, targetPort: 8080}, {name: udp, port: 8081, targetPort: 8081, protocol: UDP}]"),
    );
    await rolledOut(user, NS, "deployment/web");
    pods = await podNames("web");
    const nodes = JSON.parse(String((await user.kubeyard(["-p", profile, "node", "list", "-o", "json"])).stdout)) as { ip: string }[];
    gateway = nodes[0]!.ip.replace(/\.\d+$/, ".1");
  }, 600_000);

  afterAll(async () => {
    if (tunnel && tunnel.proc.exitCode === null) await tunnel.stop("SIGINT");
  });

  it("gives the Service an address on the cluster's network that a node holds, and the host reaches all three pods on port 80", async () => {
    tunnel = new TunnelProcess(user, profile);
    await tunnel.line(/is running \(addresses from \d+\.\d+\.\d+\.192\/26 on the cluster's network, forwarded by the nodes' kube-proxy\)/);
    webIP = await waitIngress("web");
    expect(webIP.replace(/\.\d+$/, "")).toBe(gateway.replace(/\.\d+$/, ""));
    expect(Number(webIP.split(".")[3])).toBeGreaterThan(192);
    expect(await k("get", "svc", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ipMode}")).toBe("VIP");
    await eventually(`${webIP} as the only tunnel address on the node`, async () => expect(await nodeAddresses()).toEqual([webIP]), {
      timeoutMs: 30_000,
    });
    expect(await allAnswer(`http://${webIP}:80`, pods)).toEqual(pods);
    await tunnel.line(new RegExp(`^${NS}/web ${webIP.replace(/\./g, "\\.")} 80/TCP,8081/UDP backends=3$`));
  });

  it("carries UDP", async () => {
    const name = await eventually("a UDP answer from the web Service", () => udpAsk(webIP, 8081, "hostname"), { timeoutMs: 60_000 });
    expect(pods).toContain(name.trim());
  });

  it("gives a new Service the next address, follows a changed port, and takes a deleted Service's address off the node", async () => {
    const secondIP = await serviceMovedToPort8088("second", "web", webIP);
    expect(await nodeAddresses()).toEqual([webIP, secondIP].sort());
    await k("delete", "svc", "second");
    await tunnel.line(new RegExp(`^${NS}/second removed$`));
    await eventually(`${webIP} as the only tunnel address on the node`, async () => expect(await nodeAddresses()).toEqual([webIP]), {
      timeoutMs: 30_000,
    });
  });

  it("lets kube-proxy enforce loadBalancerSourceRanges on the host's address", async () => {
    await apply(user, lbService("guarded", "web", "  loadBalancerSourceRanges: [10.123.0.0/16]\n"));
    const ip = await waitIngress("guarded");
    // The host reaches the network from its bridge, the network's gateway address.
    await eventually(
      `${ip} to stop answering the host, outside loadBalancerSourceRanges`,
      async () => expect(await unanswered(`http://${ip}:80/hostname`)).toBe(true),
      { timeoutMs: 60_000 },
    );
    await k("patch", "svc", "guarded", "-p", JSON.stringify({ spec: { loadBalancerSourceRanges: [`${gateway}/32`] } }));
    await serves(`http://${ip}:80/hostname`);
    await k("delete", "svc", "guarded");
  });

  it("honours a loadBalancerIP in its range", async () => {
    const wanted = gateway.replace(/\.1$/, ".250");
    await apply(user, lbService("fixed", "web", `  loadBalancerIP: ${wanted}\n`));
    expect(await waitIngress("fixed")).toBe(wanted);
    await serves(`http://${wanted}:80/hostname`);
    await k("delete", "svc", "fixed");
  });

  it("after a SIGKILL, the next tunnel takes over the addresses and removes those nothing serves", async () => {
    await apply(user, lbService("doomed", "web"));
    const doomedIP = await waitIngress("doomed");
    await eventually("both Services' addresses on the node", async () => expect(await nodeAddresses()).toEqual([webIP, doomedIP].sort()), {
      timeoutMs: 30_000,
    });
    await tunnel.stop("SIGKILL");
    await k("delete", "svc", "doomed");
    // The killed tunnel's addresses stay on the node until a tunnel runs again.
    expect(await nodeAddresses()).toEqual([webIP, doomedIP].sort());

    tunnel = new TunnelProcess(user, profile);
    await tunnel.line(/did not stop cleanly/);
    await eventually(`${webIP} as the only tunnel address on the node again`, async () => expect(await nodeAddresses()).toEqual([webIP]), {
      timeoutMs: 30_000,
    });
    expect(await waitIngress("web")).toBe(webIP);
    await serves(`http://${webIP}:80/hostname`);
  });

  it("removes its addresses from the node and from the Service on Ctrl-C", async () => {
    expect(await tunnel.stop("SIGINT")).toBe(0);
    expect(tunnel.output()).toContain("tunnel stopped: listeners closed, addresses cleared");
    await waitNoIngress("web");
    expect(await nodeAddresses()).toEqual([]);
    expect(await unanswered(`http://${webIP}:80/hostname`)).toBe(true);
  });
});
