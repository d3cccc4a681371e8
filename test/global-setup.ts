import { execa } from "execa";
import path from "node:path";

/**
 * Makes sure the artifacts and the node image for the default Kubernetes version exist before any
 * system test runs, through the CLI exactly as a user would. The output goes to the test log, so a
 * cold CI run shows what it is building.
 */
export default async function setup(): Promise<void> {
  const cli = path.resolve("dist/cmd/kubeyard.js");
  const started = Date.now();
  await execa("node", [cli, "build", "node-image"], { stdio: "inherit", env: { ...process.env, CI: "true" } });
  process.stdout.write(`global setup: node image ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}
