import type { Networking } from "./cluster-config.js";
import { DEFAULT_SUBNETS, DNS_SERVICE_OFFSET, MAX_NODE_CIDR_BITS, NODE_CIDR_MASK_SIZE, SERVICE_HOST_BITS } from "./defaults.js";
import { cidrsOverlap, formatCIDR, formatIP, nthAddress, parseCIDR, parseIP, type CIDR, type IPFamily } from "./ip.js";
import { describeOrigin, type IssueList, type Sourced } from "./issue-list.js";
import { checkDNS1123Subdomain } from "./k8s-names.js";

export interface NetworkingInput {
  /** Undefined when neither the file nor a flag sets it: it then follows the other subnet's family. */
  podSubnet?: Sourced<string>;
  serviceSubnet?: Sourced<string>;
  dnsDomain: Sourced<string>;
  apiServerAddress: Sourced<string>;
  apiServerPort: Sourced<number>;
}

export interface ResolvedNetworking {
  networking: Networking;
  podCIDR: CIDR;
}

/** Validates and completes the network settings; undefined when something was reported. */
export function resolveNetworking(input: NetworkingInput, issues: IssueList): ResolvedNetworking | undefined {
  const before = issues.length;
  const pod = input.podSubnet && subnet(input.podSubnet, "pod", issues);
  const svc = input.serviceSubnet && subnet(input.serviceSubnet, "service", issues);
  const family: IPFamily = pod?.family ?? svc?.family ?? 4;
  const podIn = input.podSubnet ?? byDefault(DEFAULT_SUBNETS[family].pod, "networking.podSubnet");
  const svcIn = input.serviceSubnet ?? byDefault(DEFAULT_SUBNETS[family].service, "networking.serviceSubnet");
  const podCIDR = pod ?? (input.podSubnet ? undefined : defaultCIDR(podIn.value));
  const svcCIDR = svc ?? (input.serviceSubnet ? undefined : defaultCIDR(svcIn.value));

  if (podCIDR && svcCIDR) {
    if (podCIDR.family !== svcCIDR.family) {
      issues.add(svcIn.origin, {
        value: svcIn.value,
        problem: `is IPv${svcCIDR.family} but ${describeOrigin(podIn.origin)} ${podIn.value} is IPv${podCIDR.family}`,
        allowed: `an IPv${podCIDR.family} range such as ${DEFAULT_SUBNETS[podCIDR.family].service} (a cluster uses one address family)`,
      });
    } else if (cidrsOverlap(podCIDR, svcCIDR)) {
      // Blame the value set last: a flag over the file over a default; the service subnet on a tie.
      const rank = { flag: 2, file: 1, default: 0 } as const;
      const [at, other] = rank[podIn.origin.kind] > rank[svcIn.origin.kind] ? [podIn, svcIn] : [svcIn, podIn];
      issues.add(at.origin, {
        value: at.value,
        problem: `overlaps ${describeOrigin(other.origin)} ${other.value}`,
        allowed: `a range that does not overlap ${other.value}`,
      });
    }
  }

  if (checkDNS1123Subdomain(input.dnsDomain.value)) {
    issues.add(input.dnsDomain.origin, {
      value: input.dnsDomain.value,
      problem: "is not a DNS domain",
      allowed: "a DNS-1123 subdomain such as cluster.local",
    });
  }
  const apiIP = parseIP(input.apiServerAddress.value);
  if (!apiIP) {
    issues.add(input.apiServerAddress.origin, {
      value: input.apiServerAddress.value,
      problem: "is not an IP address",
      allowed: "an IPv4 or IPv6 address on the host, such as 127.0.0.1",
    });
  }

  if (issues.length > before || !podCIDR || !svcCIDR || !apiIP) return undefined;
  return {
    podCIDR,
    networking: {
      ipFamily: podCIDR.family === 4 ? "ipv4" : "ipv6",
      podSubnet: formatCIDR(podCIDR),
      serviceSubnet: formatCIDR(svcCIDR),
      dnsDomain: input.dnsDomain.value,
      dnsServiceIP: formatIP(nthAddress(svcCIDR, DNS_SERVICE_OFFSET)),
      kubernetesServiceIP: formatIP(nthAddress(svcCIDR, 1)),
      nodeCidrMaskSize: NODE_CIDR_MASK_SIZE[podCIDR.family],
      apiServerAddress: formatIP(apiIP),
      apiServerPort: input.apiServerPort.value,
    },
  };
}

function byDefault(value: string, field: string): Sourced<string> {
  return { value, origin: { kind: "default", field } };
}

function defaultCIDR(text: string): CIDR {
  const r = parseCIDR(text);
  if (!r.ok) throw new Error(`bad built-in default subnet ${text}`);
  return r.cidr;
}

/** Syntax and size of one subnet; the size limits are the ones the components themselves enforce. */
function subnet(s: Sourced<string>, kind: "pod" | "service", issues: IssueList): CIDR | undefined {
  const example = kind === "pod" ? "10.244.0.0/16 or fd00:10:244::/56" : "10.96.0.0/12 or fd00:10:96::/112";
  if (s.value.includes(",")) {
    issues.add(s.origin, {
      value: s.value,
      problem: "lists more than one range (dual-stack clusters are not supported)",
      allowed: `one IPv4 or one IPv6 range, such as ${example}`,
    });
    return undefined;
  }
  const r = parseCIDR(s.value);
  if (!r.ok) {
    issues.add(s.origin, { value: s.value, problem: r.problem, allowed: `a CIDR range such as ${example}` });
    return undefined;
  }
  const { family, prefix } = r.cidr;
  const bits = family === 4 ? 32 : 128;
  const [min, max, why] =
    kind === "pod"
      ? [NODE_CIDR_MASK_SIZE[family] - MAX_NODE_CIDR_BITS, NODE_CIDR_MASK_SIZE[family], `each node gets a /${NODE_CIDR_MASK_SIZE[family]}`]
      : [bits - SERVICE_HOST_BITS.max, bits - SERVICE_HOST_BITS.min, "the API server allocates at most 2^20 service addresses"];
  if (prefix < min || prefix > max) {
    issues.add(s.origin, {
      value: s.value,
      problem: `is ${prefix < min ? "too large" : "too small"}`,
      allowed: `an IPv${family} range with a prefix from /${min} to /${max} (${why})`,
    });
    return undefined;
  }
  return r.cidr;
}
