import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { engineObjects, TestUser, uniqueProfile } from "./helpers/cli.js";
import { writeForeignKubeconfig } from "./helpers/kubeconfig-fixture.js";
import { holdPort } from "./helpers/ports.js";

/*
 * Bad input must be refused before anything exists: no container, network or volume for the
 * profile, no state for it, and the user's kubeconfig byte for byte as it was. No cluster starts
 * in this file; every case fails within seconds or the product is wrong.
 */

const tried: { user: TestUser; profile: string }[] = [];

afterAll(async () => {
  // Should a case have got as far as creating something, do not leave it behind for the next file.
  for (const { user, profile } of tried) {
    const left = await engineObjects(profile);
    if (left.containers.length || left.networks.length || left.volumes.length) await user.kubeyard(["delete", "-p", profile]);
  }
});

/** Runs `kubeyard start` for a new profile and checks it failed and left nothing behind. */
async function refusedStart(
  user: TestUser,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; profile?: string } = {},
): Promise<{ stderr: string; all: string; profile: string }> {
  const profile = opts.profile ?? uniqueProfile("bad");
  tried.push({ user, profile });
  const before = existsSync(user.kubeconfig) ? readFileSync(user.kubeconfig) : undefined;
  const r = await user.kubeyard(["start", "-p", profile, ...args], { env: opts.env ?? user.env, timeout: 120_000 });
  const all = String(r.all);
  expect(r.exitCode, all).not.toBe(0);
  expect(r.timedOut, all).toBe(false);
  // A message for people, not a stack trace.
  expect(all).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(await engineObjects(profile)).toEqual({ containers: [], networks: [], volumes: [] });
  if (before === undefined) expect(existsSync(user.kubeconfig)).toBe(false);
  else expect(readFileSync(user.kubeconfig).equals(before), "kubeconfig bytes changed").toBe(true);
  expect(existsSync(path.join(user.env.KUBEYARD_HOME!, "profiles", profile)), "a state folder was left").toBe(false);
  return { stderr: String(r.stderr), all, profile };
}

describe("kubeyard start refuses bad input before creating anything", () => {
  it("says no container engine answers, and how to start one", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const sock = `/tmp/nonexistent-${randomBytes(6).toString("hex")}.sock`;
    const { stderr } = await refusedStart(user, [], { env: { ...user.env, DOCKER_HOST: `unix://${sock}` } });
    expect(stderr).toContain(sock);
    expect(stderr).toMatch(/no container engine answers/i);
    expect(stderr).toMatch(/start docker/i);
  });

  it("names an API server port that is already in use and suggests choosing another", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const held = await holdPort();
    try {
      const { stderr } = await refusedStart(user, ["--apiserver-port", String(held.port)]);
      expect(stderr).toContain(`port ${held.port}`);
      expect(stderr).toMatch(/already in use/);
      expect(stderr).toMatch(/another/i);
      expect(stderr).toContain("--apiserver-port");
    } finally {
      await held.close();
    }
  });

  it("names a profile that is not a DNS label and says what is allowed", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const { stderr } = await refusedStart(user, [], { profile: "Bad_Name" });
    expect(stderr).toContain('"Bad_Name"');
    expect(stderr).toMatch(/DNS-1123 label/);
    expect(stderr).toMatch(/lowercase letters, digits and '-'/);
  });

  it("lists the supported Kubernetes versions for an unknown one", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const { stderr } = await refusedStart(user, ["--kubernetes-version", "1.99.0"]);
    expect(stderr).toContain("--kubernetes-version");
    expect(stderr).toContain("1.99.0");
    for (const v of ["v1.37.1", "v1.36.4", "v1.35.8"]) expect(stderr).toContain(v);
  });

  it("lists the container runtimes there are for an unknown one, from the flag and from the file", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const flag = await refusedStart(user, ["--container-runtime", "docker"]);
    expect(flag.stderr).toMatch(/--container-runtime: "docker" is not allowed.*containerd, cri-o/s);
    const file = path.join(user.home, "cluster.yaml");
    writeFileSync(file, "apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\ncontainerRuntime: crio\n");
    const fromFile = await refusedStart(user, ["--config", file]);
    expect(fromFile.stderr).toContain(`${file}:3:`);
    expect(fromFile.stderr).toMatch(/containerRuntime.*"crio".*containerd, cri-o/s);
  });

  it.each([
    ["text that is not YAML", ": : :\n\t- [\n"],
    ["YAML whose clusters is not a list", "clusters: 5\n"],
  ])("refuses a corrupt kubeconfig (%s), names the file and leaves it byte-identical", async (_what, garbage) => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    writeFileSync(user.kubeconfig, garbage);
    const { stderr } = await refusedStart(user, []);
    expect(stderr).toContain(user.kubeconfig);
    expect(stderr).toMatch(/cannot be read/);
    expect(readFileSync(user.kubeconfig, "utf8")).toBe(garbage);
  });

  it("points at file:line, the field, the value and what is allowed in an invalid config file", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const file = path.join(user.home, "bad.yaml");
    // The bad role is on line 6.
    writeFileSync(
      file,
      [
        "apiVersion: kubeyard.dev/v1alpha1",
        "kind: Cluster",
        "nodes:",
        "  - role: control-plane",
        "  - role: worker",
        "  - role: master",
        "",
      ].join("\n"),
    );
    const { stderr } = await refusedStart(user, ["--config", file]);
    expect(stderr).toContain(`${file}:6`);
    expect(stderr).toContain("nodes[2].role");
    expect(stderr).toContain('"master"');
    expect(stderr).toMatch(/allowed: .*control-plane.*worker/);
  });

  it("names the --mount, its value and what is allowed: a relative or missing host folder, a node folder that is relative or the node's own", async () => {
    const user = new TestUser();
    writeForeignKubeconfig(user.kubeconfig);
    const folder = path.join(user.home, "folder");
    mkdirSync(folder);
    const { stderr } = await refusedStart(user, [
      ...["--mount", "folder:/data"],
      ...["--mount", `${user.home}/missing:/data2`],
      ...["--mount", `${folder}:data3`],
      ...["--mount", `${folder}:/var/lib/data`],
      ...["--mount", `${folder}:/etc/kubernetes`],
    ]);
    const lines = stderr.split("\n").filter((l) => l.includes("--mount"));
    expect(
      lines.find((l) => l.includes('"folder:/data"') && l.includes("relative host folder")),
      stderr,
    ).toBeDefined();
    expect(
      lines.find((l) => l.includes(`${user.home}/missing`) && l.includes("does not exist")),
      stderr,
    ).toBeDefined();
    expect(
      lines.find((l) => l.includes(`${folder}:data3`) && l.includes("not an absolute path")),
      stderr,
    ).toBeDefined();
    expect(
      lines.find((l) => l.includes(`${folder}:/var/lib/data`) && l.includes("would cover /var")),
      stderr,
    ).toBeDefined();
    expect(
      lines.find((l) => l.includes(`${folder}:/etc/kubernetes`) && l.includes("would cover /etc/kubernetes")),
      stderr,
    ).toBeDefined();
    expect(stderr).toMatch(/allowed: .*HOST_DIR:NODE_DIR/);
  });

  it("leaves a user with no kubeconfig without one", async () => {
    // The same refusal for a user who never had a kubeconfig: kubeyard must not create an empty one.
    const user = new TestUser();
    await refusedStart(user, ["--kubernetes-version", "1.99.0"]);
    const held = await holdPort();
    try {
      await refusedStart(user, ["--apiserver-port", String(held.port)]);
    } finally {
      await held.close();
    }
  });
});

describe("kubeyard image build refuses bad input before building anything", () => {
  const user = new TestUser();
  const tag = `kubeyard-e2e/never-built:${Math.random().toString(36).slice(2, 8)}`;
  const ctx = path.join(user.home, "ctx");
  mkdirSync(ctx);

  /** Runs `image build` and checks it failed without a stack trace and the engine has no such image. */
  async function refusedBuild(args: string[], profile = uniqueProfile("bad")): Promise<string> {
    const r = await user.kubeyard(["image", "build", "-p", profile, ...args], { timeout: 60_000 });
    const all = String(r.all);
    expect(r.exitCode, all).not.toBe(0);
    expect(all).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    expect((await execa("docker", ["image", "inspect", tag], { reject: false })).exitCode).not.toBe(0);
    return String(r.stderr);
  }

  it("a folder that does not exist", async () => {
    expect(await refusedBuild(["-t", tag, path.join(user.home, "nope")])).toContain("nope: no such folder");
  });

  it("a folder without a Dockerfile, or an -f that does not exist", async () => {
    expect(await refusedBuild(["-t", tag, ctx])).toContain(`${path.join(ctx, "Dockerfile")}: no such Dockerfile`);
    expect(await refusedBuild(["-t", tag, "-f", path.join(ctx, "Other"), ctx])).toContain("Other: no such Dockerfile");
  });

  it("a tag that is not an image name", async () => {
    writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
    expect(await refusedBuild(["-t", "Not A Tag", ctx])).toContain('-t "Not A Tag" is not a valid image reference');
  });

  it("a cluster that does not run", async () => {
    writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
    const profile = uniqueProfile("bad");
    const stderr = await refusedBuild(["-t", tag, ctx], profile);
    expect(stderr).toContain(`there is no cluster "${profile}"`);
    expect(await engineObjects(profile)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
