/**
 * A stand-in for dl.k8s.io, GitHub releases and CRI-O's bucket on 127.0.0.1: small fake binaries and real
 * tar.gz archives laid out under the official paths, with real checksum files, served by a
 * plain node:http server that can cut connections and ignore Range on request.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import * as tar from "tar";
import type { Arch } from "../../src/artifacts/release.js";
import type { ComponentVersions } from "../../src/versions/versions.js";

export interface FakeRelease {
  /** Directory the server serves; URL path = file path under it. */
  root: string;
  /** Every binary kubeyard should end up with, by name, with its exact bytes. */
  binaries: Record<string, Buffer>;
  /** URL path of each Kubernetes binary, e.g. kubelet -> /release/v1.37.1/bin/linux/amd64/kubelet. */
  k8sPaths: Record<string, string>;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const fakeBinary = (name: string, size: number) => Buffer.concat([Buffer.from(`#fake ${name}\n`), randomBytes(size)]);

async function put(file: string, data: Buffer | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
}

/**
 * Writes a fake release for `v`/`arch` under `root`. kubelet is `bigSize` bytes so a cut
 * connection lands mid-file; archives carry extra members kubeyard must not pick up, and the
 * CNI tarball lacks `bandwidth`, as some plugin releases do.
 */
export async function buildFakeRelease(root: string, v: ComponentVersions, arch: Arch, bigSize = 512 * 1024): Promise<FakeRelease> {
  const binaries: Record<string, Buffer> = {};
  const k8sPaths: Record<string, string> = {};
  const other: Arch = arch === "amd64" ? "arm64" : "amd64";

  for (const bin of ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"]) {
    const data = fakeBinary(bin, bin === "kubelet" ? bigSize : 2048);
    const rel = `/release/v${v.kubernetes}/bin/linux/${arch}/${bin}`;
    await put(path.join(root, rel), data);
    await put(path.join(root, `${rel}.sha256`), `${sha256(data)}\n`);
    binaries[bin] = data;
    k8sPaths[bin] = rel;
  }

  const staging = path.join(root, "..", "staging");
  const gh = (repo: string, tag: string) => path.join(root, repo, "releases", "download", tag);

  // etcd: one top-level dir per tarball, listed in a SHA256SUMS with the other arch too.
  const etcdBase = `etcd-v${v.etcd}-linux-${arch}`;
  const etcdStage = path.join(staging, "etcd");
  for (const name of ["etcd", "etcdctl", "etcdutl"]) {
    binaries[name] = fakeBinary(name, 1024);
    await put(path.join(etcdStage, etcdBase, name), binaries[name]);
  }
  await put(path.join(etcdStage, etcdBase, "README.md"), "readme\n");
  delete binaries.etcdutl;
  const etcdDir = gh("etcd-io/etcd", `v${v.etcd}`);
  const etcdTar = path.join(etcdDir, `${etcdBase}.tar.gz`);
  await mkdir(etcdDir, { recursive: true });
  await tar.c({ gzip: true, cwd: etcdStage, file: etcdTar }, [etcdBase]);
  const decoy = sha256(Buffer.from("another arch"));
  await put(
    path.join(etcdDir, "SHA256SUMS"),
    `${decoy}  etcd-v${v.etcd}-linux-${other}.tar.gz\n${sha256(await readFile(etcdTar))}  ${etcdBase}.tar.gz\n`,
  );

  // containerd: bin/ prefix, a `<hex>  <file>` .sha256sum beside the tarball.
  const ctdStage = path.join(staging, "containerd");
  for (const name of ["containerd", "containerd-shim-runc-v2", "ctr", "containerd-stress"]) {
    binaries[name] = fakeBinary(name, 1024);
    await put(path.join(ctdStage, "bin", name), binaries[name]);
  }
  delete binaries["containerd-stress"];
  const ctdFile = `containerd-${v.containerd}-linux-${arch}.tar.gz`;
  const ctdTar = path.join(gh("containerd/containerd", `v${v.containerd}`), ctdFile);
  await mkdir(path.dirname(ctdTar), { recursive: true });
  await tar.c({ gzip: true, cwd: ctdStage, file: ctdTar }, ["bin"]);
  await put(`${ctdTar}.sha256sum`, `${sha256(await readFile(ctdTar))}  ${ctdFile}\n`);

  // runc: bare binaries per arch, one runc.sha256sum with `<hex> *runc.<arch>` lines.
  const runcDir = gh("opencontainers/runc", `v${v.runc}`);
  const runc = fakeBinary("runc", 1024);
  const runcOther = fakeBinary("runc-other", 1024);
  await put(path.join(runcDir, `runc.${arch}`), runc);
  await put(path.join(runcDir, `runc.${other}`), runcOther);
  await put(path.join(runcDir, "runc.sha256sum"), `${sha256(runcOther)} *runc.${other}\n${sha256(runc)} *runc.${arch}\n`);
  binaries.runc = runc;

  // CNI plugins: flat "./<plugin>" members, like upstream's tarball.
  const cniStage = path.join(staging, "cni");
  for (const name of ["bridge", "host-local", "loopback", "portmap", "ptp", "vlan"]) {
    binaries[name] = fakeBinary(name, 1024);
    await put(path.join(cniStage, name), binaries[name]);
  }
  delete binaries.vlan;
  const cniFile = `cni-plugins-linux-${arch}-v${v.cniPlugins}.tgz`;
  const cniTar = path.join(gh("containernetworking/plugins", `v${v.cniPlugins}`), cniFile);
  await mkdir(path.dirname(cniTar), { recursive: true });
  await tar.c({ gzip: true, cwd: cniStage, file: cniTar }, ["."]);
  await put(`${cniTar}.sha256`, `${sha256(await readFile(cniTar))}  ${cniFile}\n`);

  // CRI-O: one bundle under cri-o/, with programs the node takes from elsewhere, and a checksum line that
  // names the file by a path.
  const crioStage = path.join(staging, "crio");
  for (const name of ["crio", "pinns", "conmon", "crun", "runc", "crictl"]) {
    await put(path.join(crioStage, "cri-o", "bin", name), (binaries[name === "runc" ? "crio-bundle-runc" : name] = fakeBinary(name, 1024)));
  }
  await put(path.join(crioStage, "cri-o", "etc", "crio.conf"), "[crio]\n");
  for (const name of ["conmon", "crun", "crio-bundle-runc", "crictl"]) delete binaries[name];
  const crioFile = `cri-o.${arch}.v${v.crio}.tar.gz`;
  const crioTar = path.join(root, "artifacts", crioFile);
  await mkdir(path.dirname(crioTar), { recursive: true });
  await tar.c({ gzip: true, cwd: crioStage, file: crioTar }, ["cri-o"]);
  await put(`${crioTar}.sha256sum`, `${sha256(await readFile(crioTar))}  build/bundle/${crioFile}\n`);

  return { root, binaries, k8sPaths };
}

export interface LoggedRequest {
  path: string;
  range: string | undefined;
}

export interface ReleaseServer {
  url: string;
  /** Every request received, redirects included, in order. */
  requests: LoggedRequest[];
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange: boolean;
  /** Send whole-file answers at about this rate, as a real link would (unlimited when undefined). */
  bytesPerSecond: number | undefined;
  /** Answer every request with 503, as an overloaded server does. */
  unavailable: boolean;
  /** The next request for `urlPath` sends `afterBytes` of the body, then destroys the socket. */
  cutOnce(urlPath: string, afterBytes: number): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 at a random port. Like GitHub, anything under `/releases/download/`
 * first answers with a 302 to a `/objects/...` path, so redirects (and Range across them) are
 * exercised.
 */
export async function startReleaseServer(root: string): Promise<ReleaseServer> {
  const cuts = new Map<string, number>();
  const state: ReleaseServer = {
    url: "",
    requests: [],
    ignoreRange: false,
    bytesPerSecond: undefined,
    unavailable: false,
    cutOnce: (p, n) => void cuts.set(p, n),
    reset() {
      this.requests.length = 0;
      this.ignoreRange = false;
      this.bytesPerSecond = undefined;
      this.unavailable = false;
      cuts.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const server = http.createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    state.requests.push({ path: urlPath, range: req.headers.range });
    if (state.unavailable) {
      res.writeHead(503).end("overloaded\n");
      return;
    }
    if (urlPath.includes("/releases/download/") && !urlPath.startsWith("/objects/")) {
      res.writeHead(302, { location: `/objects${urlPath}` }).end();
      return;
    }
    const rel = urlPath.replace(/^\/objects/, "");
    const file = path.join(root, rel);
    const info = await stat(file).catch(() => undefined);
    if (!file.startsWith(root + path.sep) || !info?.isFile()) {
      res.writeHead(404).end("not found\n");
      return;
    }
    const data = await readFile(file);
    const cutAfter = cuts.get(rel);
    if (cutAfter !== undefined) {
      cuts.delete(rel);
      res.writeHead(200, { "content-length": data.length });
      // Hand the first bytes to the kernel, then drop the connection without finishing.
      res.write(data.subarray(0, cutAfter), () => res.socket?.destroy());
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m && !state.ignoreRange) {
      const start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { "content-range": `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, {
        "content-range": `bytes ${start}-${data.length - 1}/${data.length}`,
        "content-length": data.length - start,
      });
      res.end(data.subarray(start));
      return;
    }
    res.writeHead(200, { "content-length": data.length, "accept-ranges": state.ignoreRange ? "none" : "bytes" });
    if (!state.bytesPerSecond) return void res.end(data);
    // A tenth of a second's worth at a time.
    const chunk = Math.max(1, Math.floor(state.bytesPerSecond / 10));
    for (let at = 0; at < data.length && !res.destroyed; at += chunk) {
      res.write(data.subarray(at, at + chunk));
      await new Promise((r) => setTimeout(r, 100));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** A 127.0.0.1 port that was just bound and released, so nothing listens on it. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
