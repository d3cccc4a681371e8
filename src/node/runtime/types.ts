import type { NodeDriver } from "../../drivers/types.js";

/** One reference in a node's runtime: a tag, or the digest or ID names the runtime adds. */
export interface NodeImage {
  ref: string;
  digest: string;
  /** As the runtime reports it, e.g. "4.1 MiB". */
  size: string;
  platforms: string;
}

export interface CommandResult {
  ok: boolean;
  output: string;
}

/** What kubeyard does with the images of one node's CRI runtime; one implementation per runtime. */
export interface RuntimeImageStore {
  /** Whether the node's runtime holds the image. */
  has(driver: NodeDriver, node: string, ref: string): Promise<boolean>;
  /** Imports an archive (`docker save` or an OCI layout tar) already copied into the node. */
  import(driver: NodeDriver, node: string, archiveInNode: string): Promise<CommandResult>;
  /** Gives the image `source` the further name `target`, taking it from any image that had it. */
  tag(driver: NodeDriver, node: string, source: string, target: string): Promise<CommandResult>;
  /** Every reference the runtime holds, its own aliases included. */
  list(driver: NodeDriver, node: string): Promise<NodeImage[]>;
  /** Removes exactly these references. */
  remove(driver: NodeDriver, node: string, refs: string[]): Promise<CommandResult>;
  /** Writes the images (this machine's platform of each) as one archive at `fileInNode`, as `import` reads it. */
  export(driver: NodeDriver, node: string, refs: string[], fileInNode: string): Promise<CommandResult>;
}

export const result = (r: { exitCode: number; stdout: string; stderr: string }): CommandResult => ({
  ok: r.exitCode === 0,
  output: r.stderr.trim() || r.stdout.trim(),
});
