import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { replaceFile } from "../../src/util/atomic-write.js";

let dir: string;
let target: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeyard-replace-"));
  target = path.join(dir, "cluster.tar");
  fs.writeFileSync(target, "old");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A temp file beside `target` as a writer with its own pid leaves it: the child exits (is gone) once written. */
function tempOfExitedWriter(): string {
  const script = `const f = require("path").join(process.argv[1], ".cluster.tar." + process.pid + ".0badc0de.tmp"); require("fs").writeFileSync(f, "half"); console.log(f)`;
  const r = spawnSync(process.execPath, ["-e", script, dir], { encoding: "utf8" });
  return r.stdout.trim();
}

describe("replaceFile", () => {
  it("replaces the file with what was written, and leaves no temp file", async () => {
    await replaceFile(target, (temp) => fs.promises.writeFile(temp, "new"));
    expect(fs.readFileSync(target, "utf8")).toBe("new");
    expect(fs.readdirSync(dir)).toEqual(["cluster.tar"]);
  });

  it("keeps the old file and takes its temp away when the write fails", async () => {
    const failing = replaceFile(target, async (temp) => {
      await fs.promises.writeFile(temp, "ha");
      throw new Error("disk full");
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    expect(fs.readdirSync(dir)).toEqual(["cluster.tar"]);
  });

  it("removes what a writer that died mid-write left, and keeps a live writer's", async () => {
    const dead = tempOfExitedWriter();
    expect(fs.existsSync(dead)).toBe(true);
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    const live = path.join(dir, `.cluster.tar.${sleeper.pid}.feedf00d.tmp`);
    fs.writeFileSync(live, "in progress");
    try {
      await replaceFile(target, (temp) => fs.promises.writeFile(temp, "new"));
      expect(fs.existsSync(dead)).toBe(false);
      expect(fs.readFileSync(live, "utf8")).toBe("in progress");
      expect(fs.readFileSync(target, "utf8")).toBe("new");
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("writes through a symlink, which stays a link", async () => {
    const link = path.join(dir, "link.tar");
    fs.symlinkSync(target, link);
    await replaceFile(link, (temp) => fs.promises.writeFile(temp, "through"));
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, "utf8")).toBe("through");
  });
});
