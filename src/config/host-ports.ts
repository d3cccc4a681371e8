import { isUnspecified, parseIP, type IP } from "./ip.js";
import type { IssueList, Origin } from "./issue-list.js";
import type { Protocol } from "./schema.js";

/** One port the cluster will publish on the host. */
export interface HostPortUse {
  port: number;
  listenAddress: string;
  protocol: Protocol;
  /** Where the port number was set. */
  origin: Origin;
  /** How a clash with it is described, e.g. `nodes[0].extraPortMappings[1]`, `the API server`. */
  owner: string;
}

/**
 * Two nodes cannot publish the same host port: the second container would fail to start after the
 * first one is already running. Port 0 asks for a free port and never clashes.
 */
export function checkHostPorts(uses: readonly HostPortUse[], issues: IssueList): void {
  const seen: (HostPortUse & { ip: IP })[] = [];
  for (const use of uses) {
    const ip = parseIP(use.listenAddress);
    if (use.port === 0 || !ip) continue;
    const clash = seen.find((s) => s.port === use.port && s.protocol === use.protocol && addressesOverlap(s.ip, ip));
    if (clash) {
      issues.add(use.origin, {
        value: use.port,
        problem: `is already published on ${clash.listenAddress} (${clash.protocol}) by ${clash.owner}`,
        allowed: "a host port no other mapping or the API server uses, or 0 for a free one",
      });
    } else {
      seen.push({ ...use, ip });
    }
  }
}

/** 0.0.0.0 takes the port on every IPv4 address; :: on every address (Linux binds it dual-stack). */
function addressesOverlap(a: IP, b: IP): boolean {
  if (a.family === b.family && a.value === b.value) return true;
  const wildcard = (x: IP, y: IP) => isUnspecified(x) && (x.family === y.family || x.family === 6);
  return wildcard(a, b) || wildcard(b, a);
}
