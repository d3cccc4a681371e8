import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELEASE_ARTIFACTS } from "../../src/artifacts/release-artifact.js";
import { RELEASE_BASE_URL_ENV } from "../../src/artifacts/release.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";
import { buildFakeRelease, startReleaseServer, type ReleaseServer } from "../helpers/release-server.js";

/*
 * What a person sees while a first run fetches what clusters are made of: `artifacts fetch` and
 * `start` with an empty cache, from a local release server sending at a link's pace, under a
 * pseudo-terminal (the live list) and in a pipe (plain lines). The binaries served are fakes, so a
 * node image is never made of them: `start` fails at the image's preload, and that is asserted too.
 */

const CLI = path.resolve("dist/cmd/kubeyard.js");
const MiB = 1048576;
const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
let tmp: string;
let server: ReleaseServer;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "kubeyard-first-run-"));
  const fake = await buildFakeRelease(path.join(tmp, "www"), v, "amd64", 4 * MiB);
  server = await startReleaseServer(fake.root);
});

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** `artifacts fetch --source release` into a fresh cache; on a terminal of 200 columns with `tty`. */
function fetchOnce(cacheName: string, tty: boolean): Promise<string> {
  return runFresh(cacheName, tty, "artifacts fetch --source release", 0);
}

/** A kubeyard command with a fresh cache and the local release server; its output once it exits with `exitCode`. */
async function runFresh(cacheName: string, tty: boolean, args: string, exitCode: number): Promise<string> {
  server.reset();
  server.bytesPerSecond = 2 * MiB;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBEYARD_CACHE_DIR: path.join(tmp, cacheName),
    KUBEYARD_HOME: path.join(tmp, `${cacheName}-home`),
    [RELEASE_BASE_URL_ENV]: server.url,
  };
  // CI hosts set CI, which asks for plain output: the terminal case must not see it, so the child's
  // environment is exactly this one (execa would otherwise merge process.env back in).
  delete env.CI;
  const command = `node ${CLI} ${args}`;
  const r = tty
    ? await execa("script", ["-qfec", `stty cols 200 rows 50; ${command}`, "/dev/null"], { env, extendEnv: false, reject: false })
    : await execa("sh", ["-c", `${command} | cat`], { env, extendEnv: false, reject: false, all: true });
  const out = String(tty ? r.stdout : r.all);
  expect(r.exitCode, out).toBe(exitCode);
  return out;
}

/** A terminal's bytes as the lines it showed: redraws and colours taken out, each distinct line once. */
function screenLines(raw: string): string[] {
  const seen = new Set<string>();
  // eslint-disable-next-line no-control-regex
  for (const part of raw.split(/\x1b\[\d*[AGK]|\r|\n/)) {
    // eslint-disable-next-line no-control-regex
    const line = part.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trimEnd();
    if (line.trim()) seen.add(line.trim());
  }
  return [...seen];
}

describe("the first run's display", () => {
  it("on a terminal shows each artifact, and a download's bar and bytes as it goes", async () => {
    const lines = screenLines(await fetchOnce("tty", true));
    const kubelet = lines.filter((l) => /kubernetes: download kubelet \[[#.]{20}\] \d+% \d+\/4 MiB/.test(l));
    // More than one state of the bar was drawn while the 4 MiB came at 2 MiB/s.
    expect(new Set(kubelet.map((l) => /(\d+)%/.exec(l)![1])).size, lines.join("\n")).toBeGreaterThan(1);
    for (const name of RELEASE_ARTIFACTS)
      expect(
        lines.some((l) => l.includes(`✔ ${name}`)),
        name,
      ).toBe(true);
  }, 300_000);

  it("in a pipe prints one line per artifact, and no redraws", async () => {
    const out = await fetchOnce("pipe", false);
    for (const name of RELEASE_ARTIFACTS) expect(out).toMatch(new RegExp(`✔ ${name} \\[`));
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/\x1b\[\d*[AK]/);
    expect(out).not.toContain("[#");
  }, 300_000);

  it("is what `start` shows on a first run too, under its node image step; a start that cannot build fails and makes nothing", async () => {
    // The fake binaries download, then fail the node image's preload (its containerd is no program):
    // the shared node image tag must stay the one it was, and no cluster may be left.
    const before = await nodeImageInputs();
    const profile = `first-run-${process.pid}`;
    const raw = await runFresh("start", true, `start -p ${profile} --no-kubeconfig --source release`, 1);
    const lines = screenLines(raw);
    const kubelet = lines.filter((l) => /node image: \[1\/\d+\] kubernetes: download kubelet \[[#.]{20}\] \d+% \d+\/4 MiB/.test(l));
    expect(new Set(kubelet.map((l) => /(\d+)%/.exec(l)![1])).size, lines.join("\n")).toBeGreaterThan(1);
    // pinns comes in CRI-O's bundle, which the crio item downloaded: its own item finds it cached and says nothing.
    for (const name of RELEASE_ARTIFACTS.filter((n) => n !== "pinns"))
      expect(
        lines.some((l) => new RegExp(`› \\[\\d+/\\d+\\] ${name}: done in`).test(l)),
        name,
      ).toBe(true);
    expect(lines.some((l) => /\] pinns: /.test(l))).toBe(false);
    expect(lines.some((l) => /node image: build image; log: .*\/logs\/node-image-/.test(l))).toBe(true);
    expect(raw).toContain(`removing the half-made cluster "${profile}"`);
    const left = await execa("docker", ["ps", "-aq", "--filter", `label=dev.kubeyard.cluster=${profile}`]);
    expect(left.stdout).toBe("");
    expect(await nodeImageInputs()).toBe(before);
  }, 600_000);
});

/** The inputs label of the shared node image tag: what a build over it would change. */
async function nodeImageInputs(): Promise<string> {
  const r = await execa("docker", [
    "image",
    "inspect",
    `kubeyard/node:v${v.kubernetes}`,
    "-f",
    '{{index .Config.Labels "dev.kubeyard.inputs"}}',
  ]);
  return r.stdout.trim();
}
