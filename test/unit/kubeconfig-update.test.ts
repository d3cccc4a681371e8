import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import jsYaml from "js-yaml";
import YAML from "yaml";
import {
  OWNER_EXTENSION,
  lockPathFor,
  readKubeconfig,
  removeContext,
  upsertContext,
  type KubeconfigEntry,
} from "../../src/kubeconfig/index.js";
import { UserError } from "../../src/util/errors.js";

// A hand-kept kubeconfig with fields kubeyard knows nothing about, comments, flow style and a
// tool extension: every bit of it must survive kubeyard's edits.
const FOREIGN = `# Work clusters: kept by hand
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- cluster:
    certificate-authority: /etc/prod/ca.crt
    server: https://prod.example.com:6443
    tls-server-name: prod
    proxy-url: socks5://localhost:1080
    x-unknown: {nested: [1, 2, yes], mode: 0755}
  name: prod
users:
- name: prod-admin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
      env: null
    extensions:
    - name: other-tool
      extension: {owner: me}
contexts:
- context:
    cluster: prod
    namespace: payments
    user: prod-admin
  name: prod
current-context: prod   # careful: production
x-custom-top:
  keep: me
  when: 2024-01-01
`;

const PEM = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

function entry(name: string, port = 40000): KubeconfigEntry {
  return {
    name,
    server: `https://127.0.0.1:${port}`,
    caData: PEM("CERTIFICATE", `ca-of-${name}`),
    certData: PEM("CERTIFICATE", `client-of-${name}`),
    keyData: PEM("EC PRIVATE KEY", `key-of-${name}`),
  };
}

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeyard-kubeconfig-"));
  file = path.join(dir, "config");
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const raw = () => fs.readFileSync(file, "utf8");
const load = () => YAML.parse(raw(), { version: "1.1" });
const names = (list: Array<{ name: string }>) => list.map((item) => item.name);
const withoutKubeyard = (config: Record<string, unknown>, name: string) => {
  const copy: Record<string, unknown> = { ...config };
  for (const key of ["clusters", "users", "contexts"]) {
    copy[key] = (config[key] as Array<{ name: string }>).filter((item) => item.name !== name);
  }
  delete copy["current-context"];
  return copy;
};

describe("upsertContext", () => {
  it("creates a missing file and folder: an empty kubeconfig plus kubeyard's entries, mode 0600 in a 0700 folder", async () => {
    const nested = path.join(dir, "home", ".kube", "config");
    await upsertContext(nested, entry("kubeyard"), { setCurrent: true });
    expect(fs.statSync(nested).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(nested)).mode & 0o777).toBe(0o700);
    const config = YAML.parse(fs.readFileSync(nested, "utf8"), { version: "1.1" });
    expect(config).toMatchObject({ apiVersion: "v1", kind: "Config", preferences: {}, "current-context": "kubeyard" });
    expect(names(config.clusters)).toEqual(["kubeyard"]);
    expect(names(config.users)).toEqual(["kubeyard"]);
    expect(names(config.contexts)).toEqual(["kubeyard"]);
  });

  it("writes the server, the base64 certificates and kubeyard's mark", async () => {
    await upsertContext(file, { ...entry("dev", 41234), namespace: "apps" }, { setCurrent: true });
    const config = load();
    const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");
    expect(config.clusters[0].cluster.server).toBe("https://127.0.0.1:41234");
    expect(decode(config.clusters[0].cluster["certificate-authority-data"])).toBe(PEM("CERTIFICATE", "ca-of-dev"));
    expect(decode(config.users[0].user["client-certificate-data"])).toBe(PEM("CERTIFICATE", "client-of-dev"));
    expect(decode(config.users[0].user["client-key-data"])).toBe(PEM("EC PRIVATE KEY", "key-of-dev"));
    expect(config.contexts[0].context).toMatchObject({ cluster: "dev", user: "dev", namespace: "apps" });
    for (const [list, inner] of [
      ["clusters", "cluster"],
      ["users", "user"],
      ["contexts", "context"],
    ] as const) {
      expect(config[list][0][inner].extensions.map((ext: { name: string }) => ext.name)).toEqual([OWNER_EXTENSION]);
    }
  });

  it("keeps every foreign entry, unknown field, top-level key and comment", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("kubeyard"), { setCurrent: true });
    const after = raw();

    // Judged by an independent parser, the file means what it did, plus kubeyard's entries.
    const before = jsYaml.load(FOREIGN) as Record<string, unknown>;
    const now = jsYaml.load(after) as Record<string, unknown>;
    expect(withoutKubeyard(now, "kubeyard")).toEqual(withoutKubeyard(before, "kubeyard"));
    expect(now["current-context"]).toBe("kubeyard");

    // And the user's own text is still there as they wrote it.
    expect(after).toContain("# Work clusters: kept by hand\n");
    expect(after).toContain("x-unknown: {nested: [1, 2, yes], mode: 0755}\n");
    expect(after).toContain("# careful: production");
    expect(after).toContain("when: 2024-01-01\n");
  });

  it("replaces its own entries in place when run again, never duplicating them", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("kubeyard", 1111), { setCurrent: true });
    await upsertContext(file, entry("kubeyard", 2222), { setCurrent: true });
    const config = load();
    expect(names(config.clusters)).toEqual(["prod", "kubeyard"]);
    expect(names(config.users)).toEqual(["prod-admin", "kubeyard"]);
    expect(names(config.contexts)).toEqual(["prod", "kubeyard"]);
    expect(config.clusters[1].cluster.server).toBe("https://127.0.0.1:2222");
  });

  it("leaves current-context alone unless asked to set it", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("dev"));
    expect(load()["current-context"]).toBe("prod");
  });

  it("refuses, changing nothing, when an entry of that name is not kubeyard's", async () => {
    fs.writeFileSync(file, FOREIGN);
    const error = await upsertContext(file, entry("prod"), { setCurrent: true }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain(file);
    expect((error as UserError).message).toContain('"prod"');
    expect(raw()).toBe(FOREIGN);
    expect(fs.readdirSync(dir)).toEqual(["config"]);
  });

  it("tightens the mode of an existing file to 0600", async () => {
    fs.writeFileSync(file, FOREIGN, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await upsertContext(file, entry("dev"));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("writes through a symlinked kubeconfig, leaving the link in place", async () => {
    const real = path.join(dir, "dotfiles-kubeconfig");
    fs.writeFileSync(real, FOREIGN);
    fs.symlinkSync(real, file);
    await upsertContext(file, entry("dev"));
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    expect(names(YAML.parse(fs.readFileSync(real, "utf8")).contexts)).toEqual(["prod", "dev"]);
  });

  it("treats an empty file as an empty kubeconfig", async () => {
    fs.writeFileSync(file, "");
    await upsertContext(file, entry("dev"), { setCurrent: true });
    expect(load()).toMatchObject({ apiVersion: "v1", kind: "Config", "current-context": "dev" });
  });

  it("adds lists that are null or missing", async () => {
    fs.writeFileSync(file, "apiVersion: v1\nkind: Config\nclusters:\nusers: null\n");
    await upsertContext(file, entry("dev"));
    const config = load();
    expect(names(config.clusters)).toEqual(["dev"]);
    expect(names(config.users)).toEqual(["dev"]);
    expect(names(config.contexts)).toEqual(["dev"]);
  });

  it("keeps the sequence indentation the file already uses", async () => {
    const indented = "apiVersion: v1\nclusters:\n  - cluster:\n      server: https://a\n    name: a\nkind: Config\n";
    fs.writeFileSync(file, indented);
    await upsertContext(file, entry("dev"));
    expect(raw()).toContain("clusters:\n  - cluster:\n      server: https://a\n    name: a\n  - cluster:\n");
  });

  it("reads back names that YAML 1.1 would take for booleans as the strings they are", async () => {
    await upsertContext(file, entry("on"), { setCurrent: true });
    expect(raw()).toContain('current-context: "on"');
    const config = await readKubeconfig(file);
    expect(names(config.contexts)).toEqual(["on"]);
    expect(config["current-context"]).toBe("on");
  });
});

describe("corrupt kubeconfig", () => {
  const cases: Array<[string, string]> = [
    ["unparseable YAML", "apiVersion: v1\nclusters: [\n  - name: a\n"],
    ["a top level that is not a mapping", "- just\n- a list\n"],
    ["a top level that is a string", "hello\n"],
    ["clusters that is not a list", "apiVersion: v1\nclusters:\n  prod: {server: https://x}\n"],
    ["users that is a string", "apiVersion: v1\nusers: admin\n"],
    ["a context item that is not a mapping", "apiVersion: v1\ncontexts:\n- prod\n"],
    ["duplicate keys", "apiVersion: v1\nkind: Config\nkind: Config\n"],
    ["several documents", "apiVersion: v1\n---\napiVersion: v1\n"],
  ];
  for (const [what, text] of cases) {
    it(`is refused and left byte-for-byte as it was: ${what}`, async () => {
      fs.writeFileSync(file, text, { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      const error = await upsertContext(file, entry("dev"), { setCurrent: true }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toContain(file);
      expect(fs.readFileSync(file, "utf8")).toBe(text);
      expect(fs.statSync(file).mode & 0o777).toBe(0o644);
      // No lock and no temp file left behind either.
      expect(fs.readdirSync(dir)).toEqual(["config"]);
      await expect(removeContext(file, "dev")).rejects.toBeInstanceOf(UserError);
      await expect(readKubeconfig(file)).rejects.toBeInstanceOf(UserError);
      expect(fs.readFileSync(file, "utf8")).toBe(text);
    });
  }
});

describe("removeContext", () => {
  it("removes only kubeyard's entries and leaves the rest as it was", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("dev"));
    const result = await removeContext(file, "dev");
    expect(result.removed).toEqual(["clusters", "users", "contexts"]);
    expect(jsYaml.load(raw())).toEqual(jsYaml.load(FOREIGN));
    expect(raw()).toContain("# careful: production");
  });

  it("never removes a same-named entry kubeyard did not create, and then does not write at all", async () => {
    fs.writeFileSync(file, FOREIGN);
    const result = await removeContext(file, "prod");
    expect(result.removed).toEqual([]);
    expect(result.foreign).toEqual(["clusters", "contexts"]);
    expect(raw()).toBe(FOREIGN);
  });

  it("gives back the context that was current before kubeyard's, newest first", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("a"), { setCurrent: true });
    await upsertContext(file, entry("b"), { setCurrent: true });
    expect((await removeContext(file, "b")).currentContext).toBe("a");
    expect(load()["current-context"]).toBe("a");
    expect((await removeContext(file, "a")).currentContext).toBe("prod");
    expect(load()["current-context"]).toBe("prod");
  });

  it("remembers the earlier context across a second start of the same profile", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("a"), { setCurrent: true });
    await upsertContext(file, entry("a", 5555), { setCurrent: true });
    await removeContext(file, "a");
    expect(load()["current-context"]).toBe("prod");
  });

  it("unsets current-context when the context to go back to is gone", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("a"), { setCurrent: true });
    // The user deletes their own context meanwhile.
    const doc = YAML.parseDocument(raw(), { version: "1.1" });
    doc.deleteIn(["contexts", 0]);
    fs.writeFileSync(file, doc.toString());
    expect((await removeContext(file, "a")).currentContext).toBe("");
    const config = load();
    expect(config["current-context"]).toBe("");
    expect(names(config.clusters)).toEqual(["prod"]);
  });

  it("leaves current-context alone when it names another context", async () => {
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("a"));
    await removeContext(file, "a");
    expect(load()["current-context"]).toBe("prod");
  });

  it("does nothing, and creates nothing, when the file does not exist", async () => {
    const result = await removeContext(file, "dev");
    expect(result.removed).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("the kubeconfig lock", () => {
  it("waits for a lock someone else holds, then fails naming it, and never breaks it", async () => {
    fs.writeFileSync(file, FOREIGN);
    const lock = lockPathFor(file);
    expect(lock).toBe(`${file}.lock`);
    fs.writeFileSync(lock, "");
    const error = await upsertContext(file, entry("dev"), { lockTimeoutMs: 300 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain(lock);
    expect((error as UserError).hint).toContain(`delete ${lock}`);
    expect(fs.existsSync(lock)).toBe(true);
    expect(raw()).toBe(FOREIGN);
  });

  it("says when the kubeyard that left the lock is gone", async () => {
    fs.writeFileSync(file, FOREIGN);
    // A pid above Linux's maximum (4194304) cannot be running.
    fs.writeFileSync(lockPathFor(file), "kubeyard pid 99999999\n");
    const error = await upsertContext(file, entry("dev"), { lockTimeoutMs: 50 }).catch((err: unknown) => err);
    expect((error as UserError).message).toContain("no longer running");
  });

  it("is released after a write and after a refused write", async () => {
    await upsertContext(file, entry("dev"));
    expect(fs.existsSync(lockPathFor(file))).toBe(false);
    await upsertContext(file, entry("dev")).catch(() => undefined);
    fs.writeFileSync(file, FOREIGN);
    await upsertContext(file, entry("prod")).catch(() => undefined);
    expect(fs.existsSync(lockPathFor(file))).toBe(false);
  });
});

describe("readKubeconfig", () => {
  it("reads a missing file as an empty kubeconfig", async () => {
    expect(await readKubeconfig(file)).toEqual({
      apiVersion: "v1",
      clusters: [],
      contexts: [],
      "current-context": "",
      kind: "Config",
      preferences: {},
      users: [],
    });
  });

  it("returns every field, known or not", async () => {
    fs.writeFileSync(file, FOREIGN);
    const config = await readKubeconfig(file);
    expect(config["current-context"]).toBe("prod");
    expect(config["x-custom-top"]).toBeDefined();
    expect(config.users[0]).toMatchObject({ name: "prod-admin", user: { exec: { command: "aws" } } });
  });
});
