import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, resolveConfig, type ClusterConfig } from "../../src/config/index.js";
import { checkNodeMountPath, parseMountFlag } from "../../src/config/mounts.js";
import { refuseChangedMounts } from "../../src/create/fixed-settings.js";
import { parseCopyOperands } from "../../src/day2/copy.js";
import { checkBuild, parseBuildArgs } from "../../src/day2/image-build.js";
import { UserError } from "../../src/util/errors.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kubeyard-inner-loop-"));
  await mkdir(path.join(dir, "data"));
  await mkdir(path.join(dir, "ctx", "sub"), { recursive: true });
  await writeFile(path.join(dir, "ctx", "Dockerfile"), "FROM scratch\n");
  await writeFile(path.join(dir, "ctx", "sub", "Other.dockerfile"), "FROM scratch\n");
  await writeFile(path.join(dir, "outside.dockerfile"), "FROM scratch\n");
  await writeFile(path.join(dir, "file"), "x");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

async function userError(p: Promise<unknown> | (() => unknown)): Promise<UserError> {
  const err = await (typeof p === "function" ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe("--mount HOST_DIR:NODE_DIR[:ro]", () => {
  it("parses a folder into a read-write mount, and :ro into a read-only one", () => {
    expect(parseMountFlag(`${dir}/data:/data`)).toEqual({ mount: { hostPath: `${dir}/data`, containerPath: "/data", readOnly: false } });
    expect(parseMountFlag(`${dir}/data:/mnt/x/:ro`)).toEqual({
      mount: { hostPath: `${dir}/data`, containerPath: "/mnt/x/", readOnly: true },
    });
    expect(parseMountFlag(`${dir}/data:/srv/data:rw`)).toMatchObject({ mount: { readOnly: false } });
  });

  it("mounts every node, after the file's own mounts", async () => {
    const file = path.join(dir, "two-nodes.yaml");
    await writeFile(
      file,
      `apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: control-plane\n  - role: worker\n    extraMounts: [{hostPath: ./ctx, containerPath: /ctx}]\n`,
    );
    const config = await resolveConfig({ file, flags: { mounts: [`${dir}/data:/data:ro`] } });
    const data = { hostPath: `${dir}/data`, containerPath: "/data", readOnly: true };
    expect(config.nodes.map((n) => n.extraMounts)).toEqual([
      [data],
      [{ hostPath: path.join(dir, "ctx"), containerPath: "/ctx", readOnly: false }, data],
    ]);
  });

  it("names the flag, the value and the problem for each bad mount, all at once", async () => {
    const err = await configError(
      resolveConfig({
        flags: {
          mounts: [
            "data:/data",
            `${dir}/missing:/data`,
            `${dir}/file:/data`,
            `${dir}/data:data`,
            `${dir}/data:/var/data`,
            `${dir}/data`,
            `${dir}/data:/a`,
            `${dir}/data:/a/`,
          ],
        },
      }),
    );
    const lines = err.message.split("\n").filter((l) => l.includes("--mount"));
    expect(lines).toHaveLength(7);
    const expectLine = (value: string, problem: string) =>
      expect(
        lines.find((l) => l.includes(`"${value}"`) && l.includes(problem)),
        `${value}: ${problem} in\n${err.message}`,
      ).toBeDefined();
    expectLine("data:/data", "relative host folder");
    expectLine(`${dir}/missing:/data`, "does not exist");
    expectLine(`${dir}/file:/data`, "not a folder");
    expectLine(`${dir}/data:data`, "not an absolute path");
    expectLine(`${dir}/data:/var/data`, "would cover /var");
    expectLine(`${dir}/data`, "is not HOST_DIR:NODE_DIR");
    expectLine(`${dir}/data:/a/`, "another --mount already uses");
  });

  it("refuses a node folder kubeyard uses, inside one, or above one", () => {
    for (const p of ["/var", "/var/lib/x", "/run", "/tmp/x", "/etc/kubernetes", "/etc/kubernetes/pki", "/etc", "/opt", "/", "/usr/local"]) {
      expect(checkNodeMountPath(p)?.problem, p).toMatch(/would cover/);
    }
    for (const p of ["/data", "/mnt/shared", "/srv", "/opt/app", "/etc/ssl/extra", "/home/me"])
      expect(checkNodeMountPath(p), p).toBeUndefined();
  });

  it("refuses a config file's mount on such a folder the same way", async () => {
    const file = path.join(dir, "var-mount.yaml");
    await writeFile(
      file,
      `apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: control-plane\n    extraMounts: [{hostPath: ./data, containerPath: /var/lib/containerd}]\n`,
    );
    const err = await configError(resolveConfig({ file }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({
      field: "nodes[0].extraMounts[0].containerPath",
      problem: "would cover /var, which the node itself uses",
    });
  });

  it("refuses a --mount onto a folder the config file already mounts", async () => {
    const file = path.join(dir, "clash.yaml");
    await writeFile(
      file,
      `apiVersion: kubeyard.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: control-plane\n    extraMounts: [{hostPath: ./ctx, containerPath: /data}]\n`,
    );
    const err = await configError(resolveConfig({ file, flags: { mounts: [`${dir}/data:/data`] } }));
    expect(err.issues).toEqual([
      expect.objectContaining({ field: "--mount", problem: expect.stringContaining("config file already mounts") }),
    ]);
  });
});

describe("start on a cluster that exists", () => {
  const withMounts = (mounts: string[]): Promise<ClusterConfig> =>
    resolveConfig({ flags: { profile: "dev", nodes: 2, mounts: mounts.map((m) => m.replace("DIR", dir)) } });

  it("keeps the mounts it has when asked for none or for the same", async () => {
    const existing = await withMounts(["DIR/data:/data"]);
    expect(() => refuseChangedMounts(existing, existing)).not.toThrow();
    expect(() =>
      refuseChangedMounts(
        // A plain `start` (no --mount) resumes with whatever mounts the cluster was made with.
        { ...existing, nodes: existing.nodes.map((n) => ({ ...n, extraMounts: [] })) },
        existing,
      ),
    ).not.toThrow();
  });

  it("refuses other mounts, saying they are fixed at creation and what to do instead", async () => {
    const existing = await withMounts(["DIR/data:/data"]);
    for (const other of [["DIR/data:/data:ro"], ["DIR/data:/other"], ["DIR/data:/data", "DIR/ctx:/ctx"]]) {
      const err = await userError(async () => refuseChangedMounts(await withMounts(other), existing));
      expect(err.message).toContain("fixed when it is created");
      expect(err.hint).toMatch(/kubeyard cp/);
      expect(err.hint).toMatch(/kubeyard delete -p dev/);
    }
  });
});

describe("image build's input", () => {
  it("takes DIR/Dockerfile, or -f inside DIR (relative to the working directory, as docker build does)", async () => {
    expect(await checkBuild({ dir: "ctx", tag: "myapp:dev" }, dir)).toEqual({
      dir: path.join(dir, "ctx"),
      tag: "myapp:dev",
      dockerfile: "Dockerfile",
      buildArgs: {},
    });
    const withFile = await checkBuild(
      { dir: "ctx", tag: "example.com:5000/team/app", dockerfile: "ctx/sub/Other.dockerfile", buildArgs: ["A=1", "B=x=y", "C="] },
      dir,
    );
    expect(withFile.dockerfile).toBe("sub/Other.dockerfile");
    expect(withFile.buildArgs).toEqual({ A: "1", B: "x=y", C: "" });
  });

  it("says what is wrong before anything is built", async () => {
    const cases: [Parameters<typeof checkBuild>[0], RegExp][] = [
      [{ dir: "nope", tag: "a" }, /nope: no such folder/],
      [{ dir: "file", tag: "a" }, /file: not a folder/],
      [{ dir: "data", tag: "a" }, /data\/Dockerfile: no such Dockerfile/],
      [{ dir: "ctx", tag: "a", dockerfile: "ctx/Missing" }, /ctx\/Missing: no such Dockerfile/],
      [{ dir: "ctx", tag: "a", dockerfile: "outside.dockerfile" }, /outside the build folder/],
      [{ dir: "ctx", tag: "MyApp:dev" }, /-t "MyApp:dev" is not a valid image reference/],
      [{ dir: "ctx", tag: "app@sha256:0123456789abcdef0123456789abcdef" }, /has a digest/],
      [{ dir: "ctx", tag: "app", buildArgs: ["=1"] }, /--build-arg "=1" is not NAME=VALUE/],
    ];
    for (const [req, message] of cases) expect((await userError(checkBuild(req, dir))).message).toMatch(message);
  });

  it("reads build arguments as NAME=VALUE", () => {
    expect(parseBuildArgs(["VERSION=1.2"])).toEqual({ VERSION: "1.2" });
    expect(() => parseBuildArgs(["VERSION"])).toThrow(/not NAME=VALUE/);
  });
});

describe("cp's operands", () => {
  it("reads which side is the node, by NODE:/PATH", () => {
    expect(parseCopyOperands("./a.txt", "worker2:/data/a.txt")).toEqual({
      direction: "in",
      hostPath: "./a.txt",
      node: "worker2",
      nodePath: "/data/a.txt",
    });
    expect(parseCopyOperands("dev-control-plane:/etc/hostname", "/tmp/h")).toEqual({
      direction: "out",
      node: "dev-control-plane",
      nodePath: "/etc/hostname",
      hostPath: "/tmp/h",
    });
    // A host path with a colon is written with a folder before it.
    expect(parseCopyOperands("./a:b", "worker:/x/")).toMatchObject({ direction: "in", hostPath: "./a:b", nodePath: "/x/" });
  });

  it("refuses two nodes, no node, and a relative path in the node", async () => {
    expect((await userError(() => parseCopyOperands("a:/x", "b:/y"))).message).toMatch(/not between nodes/);
    expect((await userError(() => parseCopyOperands("/x", "./y"))).message).toMatch(/neither .* names a node/);
    expect((await userError(() => parseCopyOperands("/x", "worker:data"))).message).toMatch(/must be absolute/);
  });
});
