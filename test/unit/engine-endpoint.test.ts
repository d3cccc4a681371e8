import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCKER_SOCKET, detectEndpoint, endpointOf, type EndpointContext } from "../../src/drivers/docker/endpoint.js";
import { UserError } from "../../src/util/errors.js";

const ROOT_PODMAN = "/run/podman/podman.sock";

const noFiles = () => undefined;

function ctx(env: NodeJS.ProcessEnv, uid: number, sockets: string[]): EndpointContext {
  return { env, uid, exists: (p) => sockets.includes(p), read: noFiles };
}

describe("endpointOf", () => {
  it("gives Docker DOCKER_HOST when set, else the local socket", () => {
    expect(endpointOf("docker", { env: { DOCKER_HOST: "tcp://h:2375" }, uid: 0, read: noFiles })).toEqual({
      kind: "docker",
      where: "tcp://h:2375",
    });
    expect(endpointOf("docker", { env: {}, uid: 1000, read: noFiles })).toEqual({
      kind: "docker",
      socketPath: DOCKER_SOCKET,
      where: `unix://${DOCKER_SOCKET}`,
    });
  });

  it("gives Podman the system socket for root and the user's runtime folder otherwise, DOCKER_HOST aside", () => {
    expect(endpointOf("podman", { env: { DOCKER_HOST: "unix:///x.sock" }, uid: 0, read: noFiles }).socketPath).toBe(ROOT_PODMAN);
    expect(endpointOf("podman", { env: { XDG_RUNTIME_DIR: "/run/user/1000" }, uid: 1000, read: noFiles }).socketPath).toBe(
      "/run/user/1000/podman/podman.sock",
    );
    expect(endpointOf("podman", { env: {}, uid: 1001, read: noFiles }).socketPath).toBe("/run/user/1001/podman/podman.sock");
  });

  it("takes CONTAINER_HOST for Podman, and refuses one that is not a local socket", () => {
    expect(endpointOf("podman", { env: { CONTAINER_HOST: "unix:///tmp/p.sock" }, uid: 0, read: noFiles })).toEqual({
      kind: "podman",
      socketPath: "/tmp/p.sock",
      where: "unix:///tmp/p.sock",
    });
    expect(() => endpointOf("podman", { env: { CONTAINER_HOST: "ssh://core@h/run/podman.sock" }, uid: 0, read: noFiles })).toThrow(
      UserError,
    );
  });
});

describe("detectEndpoint", () => {
  const never = () => Promise.reject(new Error("not asked"));

  it("follows DOCKER_HOST, then CONTAINER_HOST, without looking at sockets", async () => {
    const both = [DOCKER_SOCKET, ROOT_PODMAN];
    expect((await detectEndpoint(never, ctx({ DOCKER_HOST: "unix:///d.sock" }, 0, both))).kind).toBe("docker");
    expect((await detectEndpoint(never, ctx({ CONTAINER_HOST: "unix:///p.sock" }, 0, both))).socketPath).toBe("/p.sock");
  });

  it("takes the socket that exists, Docker's when neither does", async () => {
    expect((await detectEndpoint(never, ctx({}, 0, [ROOT_PODMAN]))).socketPath).toBe(ROOT_PODMAN);
    expect((await detectEndpoint(never, ctx({}, 0, [DOCKER_SOCKET]))).socketPath).toBe(DOCKER_SOCKET);
    expect((await detectEndpoint(never, ctx({}, 0, []))).socketPath).toBe(DOCKER_SOCKET);
    const rootless = ctx({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000, ["/run/user/1000/podman/podman.sock"]);
    expect((await detectEndpoint(never, rootless)).kind).toBe("podman");
  });

  it("with both sockets, takes Docker's when it answers and Podman's when it does not", async () => {
    const both = ctx({}, 0, [DOCKER_SOCKET, ROOT_PODMAN]);
    expect((await detectEndpoint(async (e) => e.kind === "docker", both)).kind).toBe("docker");
    expect((await detectEndpoint(async () => false, both)).kind).toBe("podman");
  });
});

describe("the docker CLI's current context", () => {
  // The context files are written by the docker CLI itself, as rootless Docker's set-up tool does.
  let dir: string;
  const cli = (...args: string[]) => execa("docker", args, { env: { DOCKER_CONFIG: dir } });
  const own = (env: NodeJS.ProcessEnv) => ({ env: { DOCKER_CONFIG: dir, ...env }, uid: 1000, read: readIfThere });
  const readIfThere = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : undefined);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ky-docker-config-"));
    await cli("context", "create", "rootless", "--docker", "host=unix:///run/user/1000/docker.sock");
    await cli("context", "create", "remote", "--docker", "host=tcp://10.1.2.3:2376");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is the local socket while the default context is in use", async () => {
    expect(endpointOf("docker", own({})).socketPath).toBe(DOCKER_SOCKET);
    await cli("context", "use", "default");
    expect(endpointOf("docker", own({})).socketPath).toBe(DOCKER_SOCKET);
  });

  it("follows `docker context use` and DOCKER_CONTEXT to the context's socket; DOCKER_HOST still wins", async () => {
    await cli("context", "use", "rootless");
    expect(endpointOf("docker", own({}))).toEqual({
      kind: "docker",
      socketPath: "/run/user/1000/docker.sock",
      where: "unix:///run/user/1000/docker.sock",
    });
    expect(endpointOf("docker", own({ DOCKER_HOST: "unix:///d.sock" })).where).toBe("unix:///d.sock");
    expect(endpointOf("docker", own({ DOCKER_CONTEXT: "default" })).socketPath).toBe(DOCKER_SOCKET);
    await cli("context", "use", "default");
    expect(endpointOf("docker", own({ DOCKER_CONTEXT: "rootless" })).socketPath).toBe("/run/user/1000/docker.sock");
  });

  it("is detected where the context's socket exists and Podman's does not", async () => {
    const sockets = ["/run/user/1000/docker.sock"];
    const detect = { ...own({ DOCKER_CONTEXT: "rootless" }), exists: (p: string) => sockets.includes(p) };
    expect((await detectEndpoint(() => Promise.resolve(false), detect)).socketPath).toBe("/run/user/1000/docker.sock");
  });

  it("refuses a context that does not exist or is not a local socket, saying what to set", () => {
    expect(() => endpointOf("docker", own({ DOCKER_CONTEXT: "gone" }))).toThrow(/context "gone" does not exist/);
    expect(() => endpointOf("docker", own({ DOCKER_CONTEXT: "remote" }))).toThrow(/tcp:\/\/10\.1\.2\.3:2376/);
  });
});
