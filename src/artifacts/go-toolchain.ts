import { createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { UserError } from "../util/errors.js";

/** The oldest Go that builds every module in the version table (Kubernetes 1.37 and etcd 3.7 say go 1.26). */
export const MIN_GO = "1.26.0";

export class GoMissingError extends UserError {}

export function compareGoVersions(a: string, b: string): number {
  const pa = a
    .replace(/^go/, "")
    .split(/[.]/)
    .map((x) => parseInt(x, 10) || 0);
  const pb = b
    .replace(/^go/, "")
    .split(/[.]/)
    .map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Checks that a new-enough Go is on the PATH to build `what`, with an error that says what to install if not. */
export async function checkGo(what: string, min = MIN_GO, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let version: string;
  // Loaded here and in runLogged, not with the module: every start imports it, and only a build runs Go.
  const { execa } = await import("execa");
  try {
    const r = await execa("go", ["env", "GOVERSION"], { env });
    version = r.stdout.trim();
  } catch {
    throw new GoMissingError(
      `Go is not on the PATH, and building ${what} from source needs it.`,
      `Install Go ${min} or newer (https://go.dev/doc/install, or your package manager) and run again, or use --source release where the internet is reachable.`,
    );
  }
  if (compareGoVersions(version, min) < 0) {
    throw new GoMissingError(
      `Go ${version.replace(/^go/, "")} is too old to build ${what}; ${min} or newer is needed.`,
      `Install Go ${min} or newer and make it first on the PATH.`,
    );
  }
  return version;
}

/**
 * The environment every build runs with: the user's Go caches (outside any repo, so later builds are
 * incremental), no toolchain switching (an unexpected download would hide a too-old Go), and no VCS
 * stamping (module cache dirs have no VCS).
 */
export function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOTOOLCHAIN: "local",
    GOFLAGS: "-buildvcs=false -trimpath",
    CGO_ENABLED: "0",
    ...extra,
  };
}

/** Runs one command of a build, appending its output to the build log. */
export async function runLogged(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; log: string }): Promise<string> {
  await fs.mkdir(path.dirname(opts.log), { recursive: true });
  const out = createWriteStream(opts.log, { flags: "a" });
  out.write(`\n$ (cd ${opts.cwd} && ${cmd} ${args.join(" ")})\n`);
  const { execa } = await import("execa");
  try {
    const child = execa(cmd, args, { cwd: opts.cwd, env: opts.env, all: true, reject: false, stdin: "ignore" });
    let text = "";
    child.all?.on("data", (chunk: Buffer) => {
      out.write(chunk);
      text += chunk.toString();
      if (text.length > 1_000_000) text = text.slice(-500_000);
    });
    const r = await child;
    if (r.exitCode !== 0) {
      throw new BuildError(`${cmd} ${args.slice(0, 2).join(" ")} failed (exit ${r.exitCode ?? r.signal})`, opts.log);
    }
    return text;
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

/** A failed build: the message carries the tail of the log and where the whole log is. */
export class BuildError extends UserError {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message, `The full build log is ${log}`);
  }

  static async withTail(err: BuildError, lines = 25): Promise<BuildError> {
    const text = await fs.readFile(err.log, "utf8").catch(() => "");
    const tail = text.trimEnd().split("\n").slice(-lines).join("\n");
    const e = new BuildError(`${err.message}\n--- last lines of ${err.log} ---\n${tail}`, err.log);
    return e;
  }
}

/** Downloads one module into the module cache and returns its (read-only) source dir. */
export async function downloadModule(mod: string, version: string, log: string, pinnedSum?: string): Promise<string> {
  // A pinned module is not looked up in the checksum database (which lacks it); its hash is checked here.
  const env = pinnedSum ? goEnv({ GONOSUMDB: mod }) : goEnv();
  const out = await runLogged("go", ["mod", "download", "-json", `${mod}@${version}`], { cwd: path.dirname(log), env, log });
  const json = JSON.parse(out.slice(out.indexOf("{"))) as { Dir?: string; Error?: string; Sum?: string };
  if (!json.Dir) throw new BuildError(`go could not download ${mod}@${version}: ${json.Error ?? "no source dir"}`, log);
  if (pinnedSum && json.Sum !== pinnedSum) {
    throw new BuildError(
      `${mod}@${version} downloaded with hash ${json.Sum ?? "(none)"}, not the pinned ${pinnedSum}; refusing to build it`,
      log,
    );
  }
  return json.Dir;
}
