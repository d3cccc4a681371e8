import { readFile } from "node:fs/promises";
import type { EngineHost, NodeDriver } from "../drivers/types.js";
import { UserError } from "../util/errors.js";
import {
  DEFAULT_UNPRIVILEGED_PORT_START,
  INOTIFY_FIX,
  inotifyWarning,
  lowPortsFix,
  readInotifyLimit,
  readUnprivilegedPortStart,
} from "./host-limits.js";

/**
 * Whether this host can run nodes, checked without creating anything: what `kubeyard doctor` prints
 * and what `kubeyard start` asks before it creates a cluster. A check fails only for what cannot work.
 */

export type CheckResult = "ok" | "warn" | "fail";

export interface HostCheck {
  check: string;
  result: CheckResult;
  detail: string;
  /** What to do about a warning or failure. */
  fix?: string;
}

/** Nodes cannot run without these: the kubelet refuses to start, or pods cannot be limited. */
const REQUIRED_CONTROLLERS = ["cpu", "memory", "pids"];
/** Without these nodes run, but cpuset pinning and block I/O limits do not work. */
const WANTED_CONTROLLERS = ["cpuset", "io"];

export const DELEGATE_FIX =
  "Delegate the controllers to user services: create /etc/systemd/system/user@.service.d/delegate.conf with " +
  '"[Service]" and "Delegate=cpu cpuset io memory pids", run `sudo systemctl daemon-reload`, then log out and in ' +
  "(or restart the engine) so the user's services get them.";

export function engineCheck(host: EngineHost): HostCheck {
  return { check: "engine", result: "ok", detail: `${host.engine} ${host.version}, ${host.rootless ? "rootless" : "rootful"}` };
}

/** The engine did not answer: `err` says where it looked and its hint what to do. */
export function engineDownCheck(err: UserError): HostCheck {
  return { check: "engine", result: "fail", detail: err.message, fix: err.hint };
}

export function cgroupCheck(host: EngineHost): HostCheck {
  const detail = `cgroup v${host.cgroupVersion}, ${host.cgroupDriver} driver`;
  if (host.cgroupVersion === 1 && host.rootless) {
    return {
      check: "cgroups",
      result: "fail",
      detail: `${detail}: a rootless engine can give nodes cgroups only on cgroup v2`,
      fix: "Boot the host with cgroup v2 (kernel parameter systemd.unified_cgroup_hierarchy=1), or use a rootful engine.",
    };
  }
  return { check: "cgroups", result: "ok", detail };
}

/** The controllers a cgroup.controllers file lists (space-separated, one line). */
export function parseControllers(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/**
 * Where systemd puts a user's services, and so a rootless engine: its cgroup.controllers lists what
 * was delegated to that user.
 */
export function userServiceControllersFile(uid: number): string {
  return `/sys/fs/cgroup/user.slice/user-${uid}.slice/user@${uid}.service/cgroup.controllers`;
}

/**
 * Whether a rootless engine on cgroup v2 has the controllers nodes need; `controllers` is undefined
 * when `file` could not be read. Undefined (no check) where delegation does not apply.
 */
export function delegationCheck(host: EngineHost, uid: number, controllers: string[] | undefined): HostCheck | undefined {
  const check = "cgroup delegation";
  if (!host.rootless) return { check, result: "ok", detail: "not needed: the engine runs as root" };
  if (host.cgroupVersion !== 2) return undefined;
  const file = userServiceControllersFile(uid);
  if (!controllers) {
    return { check, result: "warn", detail: `could not read ${file}, so delegation to uid ${uid} is unknown`, fix: DELEGATE_FIX };
  }
  const missing = REQUIRED_CONTROLLERS.filter((c) => !controllers.includes(c));
  const lists = `${file} lists "${controllers.join(" ")}"`;
  if (missing.length) {
    return { check, result: "fail", detail: `${missing.join(", ")} not delegated to uid ${uid} (${lists})`, fix: DELEGATE_FIX };
  }
  const unwanted = WANTED_CONTROLLERS.filter((c) => !controllers.includes(c));
  if (unwanted.length) {
    return {
      check,
      result: "warn",
      detail: `${unwanted.join(", ")} not delegated to uid ${uid} (${lists}); CPU pinning or I/O limits will not apply`,
      fix: DELEGATE_FIX,
    };
  }
  return { check, result: "ok", detail: `${[...REQUIRED_CONTROLLERS, ...WANTED_CONTROLLERS].join(", ")} delegated to uid ${uid}` };
}

/**
 * Which host ports nodes can publish: a rootless engine binds them as its user, so not below
 * net.ipv4.ip_unprivileged_port_start (`start`: undefined where unreadable). The ingress addon then
 * gets free ports instead of 80 and 443; a port the config names below it is refused by `start`.
 */
export function portsCheck(host: EngineHost, start: number | undefined): HostCheck {
  const check = "published ports";
  if (!host.rootless) return { check, result: "ok", detail: "any: the engine runs as root" };
  const lowest = start ?? DEFAULT_UNPRIVILEGED_PORT_START;
  if (lowest <= 80) return { check, result: "ok", detail: `from ${lowest} on (net.ipv4.ip_unprivileged_port_start)` };
  return {
    check,
    result: "warn",
    detail: `a rootless engine publishes ports from ${lowest} on only (net.ipv4.ip_unprivileged_port_start), so the ingress addon gets free ports instead of 80 and 443 (\`kubeyard status\` shows them)`,
    fix: lowPortsFix(80),
  };
}

/** `limit` undefined: the host does not show it (not Linux, or /proc hidden). */
export function inotifyCheck(limit: number | undefined, nodesRunning: number, nodesToAdd: number): HostCheck {
  const check = "inotify";
  if (limit === undefined) return { check, result: "ok", detail: "fs.inotify.max_user_instances is not readable here; not checked" };
  const warning = inotifyWarning(limit, nodesRunning, nodesToAdd);
  if (warning) return { check, result: "warn", detail: warning, fix: INOTIFY_FIX };
  return { check, result: "ok", detail: `fs.inotify.max_user_instances is ${limit}, enough for ${nodesRunning + nodesToAdd} nodes` };
}

export function subnetCheck(subnet: string | undefined): HostCheck {
  if (subnet) return { check: "network", result: "ok", detail: `a cluster network would get ${subnet}` };
  return {
    check: "network",
    result: "fail",
    detail: "no free private /24 is left for a cluster network: every candidate overlaps an engine network or a host route",
    fix: "Remove engine networks you no longer need (`docker network prune`).",
  };
}

/** The uid a rootless engine runs as: the owner named by a /run/user/<uid>/ socket in its address, else ours. */
export function engineUid(address: string, ownUid = process.getuid?.() ?? 0): number {
  const m = /\/run\/user\/(\d+)\//.exec(address);
  return m ? Number(m[1]) : ownUid;
}

export interface HostCheckOptions {
  /** Nodes about to be created, besides those running. */
  nodesToAdd: number;
  /** Whether a new cluster network is needed (and so a free subnet), and the ranges it must avoid. */
  network?: { avoid?: readonly string[] };
}

export interface HostReport {
  /** The engine, when it answered. */
  engine?: EngineHost;
  checks: HostCheck[];
}

/** Every check, in the order doctor prints them; those that need the engine are left out when it does not answer. */
export async function runHostChecks(driver: NodeDriver, opts: HostCheckOptions): Promise<HostReport> {
  let host: EngineHost;
  try {
    host = await driver.describeEngine();
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { checks: [engineDownCheck(err)] };
  }
  const uid = engineUid(host.address);
  const [controllers, limit, running, subnet, portStart] = await Promise.all([
    host.rootless && host.cgroupVersion === 2
      ? readFile(userServiceControllersFile(uid), "utf8").then(parseControllers, () => undefined)
      : undefined,
    readInotifyLimit(),
    driver.listNodes().then((nodes) => nodes.filter((n) => n.state === "running").length),
    opts.network ? driver.freeSubnet({ avoid: opts.network.avoid }) : undefined,
    host.rootless ? readUnprivilegedPortStart() : undefined,
  ]);
  const delegation = delegationCheck(host, uid, controllers);
  const checks = [
    engineCheck(host),
    cgroupCheck(host),
    ...(delegation ? [delegation] : []),
    inotifyCheck(limit, running, opts.nodesToAdd),
    portsCheck(host, portStart),
    ...(opts.network ? [subnetCheck(subnet)] : []),
  ];
  return { engine: host, checks };
}

/** The error that stops a start on this host: the first failing check, with its fix. */
export function hostRefusal(checks: readonly HostCheck[]): UserError | undefined {
  const failed = checks.find((c) => c.result === "fail");
  if (!failed) return undefined;
  return new UserError(`This host cannot run the cluster's nodes (${failed.check}): ${failed.detail}.`, failed.fix);
}
