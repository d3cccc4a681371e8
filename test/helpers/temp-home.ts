import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";

/**
 * Gives each test of the file its own empty kubeyard state folder (KUBEYARD_HOME is `<root>/state`),
 * removed after it. Returns the current test's root folder.
 */
export function useTempKubeyardHome(prefix: string): () => string {
  let root = "";
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), prefix));
    process.env.KUBEYARD_HOME = path.join(root, "state");
  });
  afterEach(() => {
    delete process.env.KUBEYARD_HOME;
    rmSync(root, { recursive: true, force: true });
  });
  return () => root;
}
