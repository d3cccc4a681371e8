import { profileClient } from "../cluster/api.js";
import { requireReadyState } from "../cluster/state.js";
import type { NodeDriver } from "../drivers/types.js";
import { getObject, listObjects } from "../kube/index.js";
import { chooseForwarding, type ForwardingChoice } from "../tunnel/forwarding.js";
import { claimTunnel } from "../tunnel/lock.js";
import { NODES, SERVICES, type Node, type Service } from "../tunnel/objects.js";
import { serviceUrls, type ServiceUrls } from "../tunnel/service-url.js";
import { runTunnel, type TunnelRow } from "../tunnel/tunnel.js";
import { UserError } from "../util/errors.js";
import { watchInterrupt } from "./interrupt.js";

/**
 * `kubeyard tunnel`: serves the cluster's LoadBalancer Services until Ctrl-C, as the only tunnel of the
 * profile. `engine` is asked for only when the nodes forward (route mode). `onStart` hears how the
 * addresses are forwarded, and the pid of an earlier tunnel that left addresses behind.
 */
export async function tunnelOf(
  profile: string,
  mode: ForwardingChoice,
  opts: {
    engine: () => Promise<NodeDriver>;
    onStart: (describe: string, leftoverPid: number | undefined) => void;
    onRows: (rows: TunnelRow[]) => void;
    onWarning: (message: string) => void;
  },
): Promise<void> {
  const kc = await profileClient(profile);
  const { forwarding, describe } = await chooseForwarding(await requireReadyState(profile), mode, async () => {
    const driver = await opts.engine();
    return (node, cmd) => driver.exec(node, cmd);
  });
  const claim = await claimTunnel(profile);
  const stop = watchInterrupt(() => "stopping: closing listeners and clearing addresses (Ctrl-C again to quit at once)");
  try {
    opts.onStart(describe, claim.leftoverPid);
    await runTunnel(kc, { signal: stop.signal, forwarding, onWarning: opts.onWarning, onRows: opts.onRows });
  } finally {
    await claim.release();
    stop.dispose();
  }
}

/** `kubeyard service`: the URLs a NodePort or LoadBalancer Service is reached at from this host. */
export async function serviceUrlsOf(profile: string, namespace: string, name: string): Promise<ServiceUrls> {
  const kc = await profileClient(profile);
  const svc = (await getObject(kc, { ...SERVICES, namespace, name })) as Service | undefined;
  if (!svc) {
    throw new UserError(
      `service "${name}" not found in namespace "${namespace}"`,
      "`kubectl get services -A` lists them; -n names the namespace",
    );
  }
  const nodes = (await listObjects(kc, NODES)).items as Node[];
  return serviceUrls(svc, nodes);
}
