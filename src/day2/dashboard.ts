import { waitForDeploymentAvailable } from "../kube/index.js";
import { forwardToPods, type PodForward } from "../kube/port-forward.js";
import { loadPki } from "../pki/store.js";
import { UserError } from "../util/errors.js";
import { adminClient } from "../cluster/api.js";
import { pkiDir, readState } from "../cluster/state.js";

/** Where the dashboard addon's UI runs (addons/dashboard/dashboard.yaml). */
export const DASHBOARD_ADDON = "dashboard";
const NAMESPACE = "kube-system";
const DEPLOYMENT = "dashboard";
const SELECTOR = "k8s-app=dashboard";
const POD_PORT = 8080;

/** `--port`: a port from 1 to 65535; left out, a free one is taken. */
export function parseDashboardPort(value: string): number {
  const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`--port: got "${value}", want a port number from 1 to 65535`, "Leave --port out to take a free port.");
  }
  return port;
}

export interface Dashboard extends PodForward {
  url: string;
}

/**
 * Makes the dashboard reachable from this machine: waits until its Deployment is available, then
 * forwards 127.0.0.1:port (a free one for 0) to its pod through the API server, as the cluster's
 * admin. The caller keeps the process running and calls close() when done.
 */
export async function openDashboard(
  profile: string,
  opts: { port: number; onError?: (message: string) => void; onStatus?: (s: string) => void },
): Promise<Dashboard> {
  const state = await readState(profile);
  if (!state || state.phase !== "ready") {
    throw new UserError(
      `there is no cluster "${profile}"`,
      "Start one with `kubeyard start` (`kubeyard profile list` shows the clusters there are).",
    );
  }
  if (!state.addons.includes(DASHBOARD_ADDON)) {
    throw new UserError(
      `the ${DASHBOARD_ADDON} addon is not enabled on cluster "${profile}"`,
      `Enable it with \`kubeyard -p ${profile} addons enable ${DASHBOARD_ADDON}\`, then run \`kubeyard -p ${profile} dashboard\` again.`,
    );
  }
  const kc = adminClient(state, await loadPki(pkiDir(profile)));
  await waitForDeploymentAvailable(kc, NAMESPACE, DEPLOYMENT, { timeoutMs: 180_000, onStatus: opts.onStatus });
  const forward = await forwardToPods(kc, {
    namespace: NAMESPACE,
    selector: SELECTOR,
    podPort: POD_PORT,
    host: "127.0.0.1",
    localPort: opts.port,
    onError: opts.onError,
  });
  return { ...forward, url: `http://127.0.0.1:${forward.port}/` };
}
