import { existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tar from "tar";
import { afterAll, describe, expect, it } from "vitest";
import { nodeImageTag } from "../../src/artifacts/node-image.js";
import { DEFAULT_KUBERNETES_VERSION, findVersion } from "../../src/versions/versions.js";
import { TestUser, engineObjects, uniqueProfile } from "./helpers/cli.js";
import { kubectlOk } from "./helpers/kubectl.js";

/*
 * Air-gap bundles. A bundle exported here fills the empty cache of another machine's user: one with
 * a fresh cache folder, no Go on the PATH and the release downloads unreachable, so anything that
 * needed building or downloading would fail. There `start` and `addons enable` work at once. A
 * damaged bundle is refused before anything changes.
 */

const v = findVersion(DEFAULT_KUBERNETES_VERSION)!;
const scratch = mkdtempSync(path.join(os.tmpdir(), "kubeyard-e2e-bundle-"));
const bundle = path.join(scratch, "bundle.tar");
const exporter = new TestUser();
const profile = uniqueProfile("e2e-airgap");

/** A user on "another machine": its own empty cache, no Go, no internet for release downloads. */
function offlineUser(cacheName: string): TestUser {
  const user = new TestUser();
  const path_ = (process.env.PATH ?? "").split(":").filter((d) => d && !existsSync(path.join(d, "go")));
  Object.assign(user.env, {
    KUBEYARD_CACHE_DIR: path.join(scratch, cacheName),
    PATH: path_.join(":"),
    // Port 9 (discard) answers nothing: a download attempt fails as offline.
    KUBEYARD_RELEASE_BASE_URL: "http://127.0.0.1:9",
  });
  return user;
}
const offline = offlineUser("cache");

afterAll(async () => {
  await offline.kubeyard(["delete", "-p", profile]);
  expect(await engineObjects(profile)).toEqual({ containers: [], networks: [], volumes: [] });
  for (const u of [exporter, offline]) rmSync(u.home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}, 300_000);

describe("air-gap bundles", () => {
  it("export writes one bundle: its manifest first, then the images and the cache entries it lists", async () => {
    const r = await exporter.kubeyard(["artifacts", "export", bundle, "--addons"]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout)).toContain(`${bundle}: Kubernetes v${v.kubernetes}`);
    const members: string[] = [];
    await tar.t({ file: bundle, onReadEntry: (e) => members.push(e.path) });
    expect(members[0]).toBe("kubeyard-bundle.json");
    expect(members).toContain("images.tar");
    expect(members).toContain(`entries/kubernetes/${v.kubernetes}-source/kubectl`);
    expect(members.some((m) => m.startsWith("entries/traefik-archive/"))).toBe(true);
    // No partial file is left beside it.
    expect(readdirSync(scratch)).toEqual(["bundle.tar"]);
  }, 1_200_000);

  it("import into an empty cache adds every entry, and loads the images", async () => {
    const r = await offline.kubeyard(["artifacts", "import", bundle]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stdout)).toMatch(/cache entries added \(0 were there\)/);
    const list = JSON.parse(String((await offline.kubeyard(["artifacts", "list", "-o", "json"])).stdout)) as { name: string }[];
    const names = list.map((a) => a.name);
    for (const n of ["kubernetes", "etcd", "containerd", "runc", "cni-plugins", "gateway-api-crds", "traefik-archive"]) {
      expect(names, n).toContain(n);
    }
    expect(names).toContain(nodeImageTag(v));
  }, 600_000);

  it("with it alone (no Go, no downloads), start makes a working cluster and addons enable works", async () => {
    const started = await offline.kubeyard(["start", "-p", profile]);
    expect(started.exitCode, String(started.all)).toBe(0);
    expect(await kubectlOk(offline, "get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}")).toBe(
      "True",
    );
    const enabled = await offline.kubeyard(["-p", profile, "addons", "enable", "ingress"]);
    expect(enabled.exitCode, String(enabled.all)).toBe(0);
    // What would have needed Go or the internet was never tried, and nothing was built: every
    // build (binaries, images, the node image) writes its log into the cache's logs folder.
    expect(String(started.all) + String(enabled.all)).not.toMatch(/Go is not on the PATH|cannot be reached/);
    const logs = path.join(scratch, "cache", "logs");
    expect(existsSync(logs) ? readdirSync(logs) : []).toEqual([]);
  }, 900_000);

  it("a damaged bundle, or a file that is none, is refused and changes nothing", async () => {
    const fresh = offlineUser("cache-2");
    const notBundle = path.join(scratch, "notes.txt");
    writeFileSync(notBundle, "not a bundle\n");
    const none = await fresh.kubeyard(["artifacts", "import", notBundle]);
    expect(none.exitCode).not.toBe(0);
    expect(String(none.all)).toMatch(/is not a kubeyard bundle/);

    // 16 bytes overwritten halfway: inside images.tar, the largest member.
    const fd = openSync(bundle, "r+");
    writeSync(fd, Buffer.alloc(16, 0x5a), 0, 16, Math.floor(statSync(bundle).size / 2));
    closeSync(fd);
    const damaged = await fresh.kubeyard(["artifacts", "import", bundle]);
    expect(damaged.exitCode).not.toBe(0);
    expect(String(damaged.all)).toMatch(/is damaged: images\.tar does not match its checksum; nothing was imported/);
    const cache = path.join(scratch, "cache-2");
    expect(existsSync(path.join(cache, "artifacts")) ? readdirSync(path.join(cache, "artifacts")) : []).toEqual([]);
    expect(existsSync(path.join(cache, "tmp")) ? readdirSync(path.join(cache, "tmp")) : []).toEqual([]);
    rmSync(fresh.home, { recursive: true, force: true });
  }, 600_000);
});
