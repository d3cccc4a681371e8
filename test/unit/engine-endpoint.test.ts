import { describe, expect, it } from "vitest";
import { DOCKER_SOCKET, detectEndpoint, endpointOf, type EndpointContext } from "../../src/drivers/docker/endpoint.js";
import { UserError } from "../../src/util/errors.js";

const ROOT_PODMAN = "/run/podman/podman.sock";

function ctx(env: NodeJS.ProcessEnv, uid: number, sockets: string[]): EndpointContext {
  return { env, uid, exists: (p) => sockets.includes(p) };
}

describe("endpointOf", () => {
  it("gives Docker DOCKER_HOST when set, else the local socket", () => {
    expect(endpointOf("docker", { env: { DOCKER_HOST: "tcp://h:2375" }, uid: 0 })).toEqual({ kind: "docker", where: "tcp://h:2375" });
    expect(endpointOf("docker", { env: {}, uid: 1000 })).toEqual({
      kind: "docker",
      socketPath: DOCKER_SOCKET,
      where: `unix://${DOCKER_SOCKET}`,
    });
  });

  it("gives Podman the system socket for root and the user's runtime folder otherwise, DOCKER_HOST aside", () => {
    expect(endpointOf("podman", { env: { DOCKER_HOST: "unix:///x.sock" }, uid: 0 }).socketPath).toBe(ROOT_PODMAN);
    expect(endpointOf("podman", { env: { XDG_RUNTIME_DIR: "/run/user/1000" }, uid: 1000 }).socketPath).toBe(
      "/run/user/1000/podman/podman.sock",
    );
    expect(endpointOf("podman", { env: {}, uid: 1001 }).socketPath).toBe("/run/user/1001/podman/podman.sock");
  });

  it("takes CONTAINER_HOST for Podman, and refuses one that is not a local socket", () => {
    expect(endpointOf("podman", { env: { CONTAINER_HOST: "unix:///tmp/p.sock" }, uid: 0 })).toEqual({
      kind: "podman",
      socketPath: "/tmp/p.sock",
      where: "unix:///tmp/p.sock",
    });
    expect(() => endpointOf("podman", { env: { CONTAINER_HOST: "ssh://core@h/run/podman.sock" }, uid: 0 })).toThrow(UserError);
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
