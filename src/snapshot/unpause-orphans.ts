/**
 * Run by guardPause: `unpause-orphans PID ENGINE NODE...`. Waits until process PID ends, then unpauses
 * those of the nodes still paused. Ended by its parent once the parent unpaused them itself.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createDriver, type DriverChoice } from "../drivers/index.js";
import { isProcessAlive } from "../util/process-alive.js";

const [pid, engine, ...nodes] = process.argv.slice(2);
while (isProcessAlive(Number(pid))) await sleep(100);
const driver = await createDriver(engine as DriverChoice);
for (const n of nodes) {
  if ((await driver.inspectNode(n))?.state === "paused") await driver.unpauseNode(n);
}
