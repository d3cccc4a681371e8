import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tarOfHostFile } from "../../src/drivers/docker/archive.js";
import { readTarFiles } from "../../src/util/tar-read.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "kubeyard-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function entriesOf(stream: NodeJS.ReadableStream): Promise<{ path: string; size: number; sha: string }[]> {
  const files = await readTarFiles(stream);
  return [...files].map(([p, b]) => ({ path: p, size: b.length, sha: createHash("sha256").update(b).digest("hex") }));
}

describe("tarOfHostFile", () => {
  it("holds the whole file, byte for byte, under the node path", async () => {
    const body = randomBytes(20 * 1024 * 1024 + 123);
    const file = path.join(dir, "images.tar");
    writeFileSync(file, body);
    const entries = await entriesOf(await tarOfHostFile(file, "/var/lib/kubeyard/images/abc.tar"));
    expect(entries).toEqual([
      { path: "var/lib/kubeyard/images/abc.tar", size: body.length, sha: createHash("sha256").update(body).digest("hex") },
    ]);
  });

  it("refuses a node path on a tmpfs or not absolute", async () => {
    const file = path.join(dir, "small.tar");
    writeFileSync(file, "x");
    await expect(tarOfHostFile(file, "/tmp/x.tar")).rejects.toThrow(/tmpfs/);
    await expect(tarOfHostFile(file, "var/x.tar")).rejects.toThrow(/absolute path/);
  });
});
