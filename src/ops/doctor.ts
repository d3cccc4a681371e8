import { runHostChecks, type HostReport } from "../cluster/host-checks.js";
import type { NodeDriver } from "../drivers/types.js";

export interface DoctorReport extends HostReport {
  /** Whether every check passed or only warned: `kubeyard start` would go ahead. */
  ok: boolean;
}

/**
 * `kubeyard doctor`: the checks `start` runs, for a new default cluster (one node, the default pod and
 * service ranges, which the driver avoids unless told otherwise), creating nothing.
 */
export async function doctor(driver: NodeDriver): Promise<DoctorReport> {
  const report = await runHostChecks(driver, { nodesToAdd: 1, network: {} });
  return { ...report, ok: report.checks.every((c) => c.result !== "fail") };
}
