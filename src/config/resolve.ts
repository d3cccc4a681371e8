import { readFile } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_KUBERNETES_VERSION, findVersion, supportedVersionList } from "../versions/versions.js";
import { CONTROL_PLANE_ROLE_LABEL, type ClusterConfig, type Mount, type NodeConfig, type Taint } from "./cluster-config.js";
import { DEFAULT_API_SERVER_ADDRESS, DEFAULT_API_SERVER_PORT, DEFAULT_DNS_DOMAIN, DEFAULT_PROFILE } from "./defaults.js";
import { emptyFileSettings, readFileSettings, type FileSettings } from "./file-settings.js";
import { FLAG_NAMES, parseFlags, type ConfigFlags, type ParsedFlags } from "./flags.js";
import { ADDON_PORTS, ADDON_PORT_ADDRESS, ADDON_PORT_NAMES, type AddonPortRequests } from "./addon-ports.js";
import { checkHostPorts, type HostPortUse } from "./host-ports.js";
import { checkImageRef } from "./image-ref.js";
import { IssueList, type Origin, type Sourced } from "./issue-list.js";
import { ConfigError, formatPath } from "./issues.js";
import { checkDNS1123Label } from "./k8s-names.js";
import { resolveNetworking, type ResolvedNetworking } from "./networking.js";
import { sameNodePath } from "./mounts.js";
import { layoutNodes, type NodeSlot } from "./node-layout.js";
import { checkProfileName } from "./profile-name.js";
import { CLUSTER_TEXT_FIELDS, clusterFileSchema } from "./schema.js";
import { checkSchema } from "./schema-check.js";
import { parseYamlSource, type YamlSource } from "./yaml-source.js";

export interface ResolveOptions {
  /** A config file; relative paths in it (mounts) are taken from its folder. */
  file?: string;
  flags?: ConfigFlags;
  /**
   * The addons that exist. When given, unknown addon names are config errors listing these; the
   * addon engine owns the list, so without it only the names' syntax is checked.
   */
  knownAddons?: readonly string[];
}

/** Node names become the node containers' hostnames, which Linux caps at 63 characters. */
const MAX_NODE_NAME = 63;

/**
 * The one way to a ClusterConfig: reads and checks the file, lays the flags over it, fills in
 * every default, and throws a ConfigError listing every problem found.
 */
export async function resolveConfig(opts: ResolveOptions = {}): Promise<ClusterConfig> {
  const src = opts.file ? await loadSource(opts.file) : undefined;
  const issues = new IssueList(src);
  if (src) issues.push(...checkSchema(src, clusterFileSchema));
  const file: FileSettings = src ? readFileSettings(src, issues) : emptyFileSettings();
  const flags = parseFlags(opts.flags ?? {}, issues);

  const name = pick(flags, "profile", file.name, DEFAULT_PROFILE, "name");
  const profileProblem = checkProfileName(name.value);
  if (profileProblem) issues.add(name.origin, { value: name.value, ...profileProblem });

  const requested = flagOr(flags, "kubernetesVersion", file.kubernetesVersion);
  const versions = requested ? findVersion(requested.value) : findVersion(DEFAULT_KUBERNETES_VERSION);
  if (requested && !versions) {
    issues.add(requested.origin, {
      value: requested.value,
      problem: "is not a supported Kubernetes version",
      allowed: `${supportedVersionList()} (or a minor version such as ${DEFAULT_KUBERNETES_VERSION.replace(/\.\d+$/, "")} for its newest patch)`,
    });
  }

  const nodeImage = flagOr(flags, "nodeImage", file.nodeImage);
  const badImage = nodeImage && checkImageRef(nodeImage.value);
  if (nodeImage && badImage) issues.add(nodeImage.origin, { value: nodeImage.value, ...badImage });

  const apiServerPort = pick(flags, "apiServerPort", file.apiServerPort, DEFAULT_API_SERVER_PORT, "networking.apiServerPort");
  const net = resolveNetworking(
    {
      podSubnet: flagOr(flags, "podSubnet", file.podSubnet),
      serviceSubnet: flagOr(flags, "serviceSubnet", file.serviceSubnet),
      dnsDomain: file.dnsDomain ?? { value: DEFAULT_DNS_DOMAIN, origin: { kind: "default", field: "networking.dnsDomain" } },
      apiServerAddress: pick(flags, "apiServerAddress", file.apiServerAddress, DEFAULT_API_SERVER_ADDRESS, "networking.apiServerAddress"),
      apiServerPort,
    },
    issues,
  );

  const slots = layoutNodes(file.nodes, flags, issues);
  if (slots && net) checkPodCapacity(slots.length, net, flagOr(flags, "podSubnet", file.podSubnet)?.origin, issues);
  const addons = checkAddons(flags, file, opts.knownAddons, issues);
  const mounts = flags.mounts ?? [];
  if (slots) checkMountClashes(slots, mounts, issues);
  const nodes = slots && !profileProblem ? buildNodes(name.value, slots, nodeImage?.value ?? null, mounts) : [];
  checkNodeNameLength(name, nodes, issues);
  // Without a layout (counts were wrong) still check every node the file lists.
  const checked = slots ?? (file.nodes && "value" in file.nodes ? file.nodes.value.map((n) => ({ role: n.role, fromFile: n })) : []);
  const apiServer = net && { port: net.networking.apiServerPort, address: net.networking.apiServerAddress, origin: apiServerPort.origin };
  checkHostPorts([...hostPortUses(apiServer, checked), ...addonPortUses(file)], issues);
  const addonPorts = Object.fromEntries(ADDON_PORT_NAMES.map((n) => [n, file.addonPorts[n]?.value ?? null])) as AddonPortRequests;

  if (issues.length > 0 || !versions || !net) throw new ConfigError(issues.sorted());
  return deepFreeze({
    name: name.value,
    kubernetesVersion: `v${versions.kubernetes}`,
    versions: { ...versions },
    containerRuntime: flags.containerRuntime ?? file.containerRuntime?.value ?? null,
    nodeImage: nodeImage?.value ?? null,
    networking: net.networking,
    nodes,
    featureGates: file.featureGates,
    extraArgs: file.extraArgs,
    addons,
    addonPorts,
    configFile: opts.file ? path.resolve(opts.file) : null,
  });
}

async function loadSource(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a folder" : `cannot be read (${code ?? String(e)})`;
    throw new ConfigError([{ file, field: "", problem: `the config file ${why}` }], {
      hint: "pass the path of a kubeyard cluster config file (YAML), or leave the file out to use flags and defaults",
    });
  }
  const src = parseYamlSource(text, file, { document: "a single Cluster", textFields: CLUSTER_TEXT_FIELDS });
  if (src.syntaxIssues.length > 0) throw new ConfigError(src.syntaxIssues);
  return src;
}

type ScalarFlag = "profile" | "kubernetesVersion" | "nodeImage" | "apiServerAddress" | "podSubnet" | "serviceSubnet" | "apiServerPort";

function flagOr<K extends ScalarFlag>(flags: ParsedFlags, key: K, file: Sourced<NonNullable<ParsedFlags[K]>> | undefined) {
  const v = flags[key];
  if (v !== undefined) return { value: v as NonNullable<ParsedFlags[K]>, origin: { kind: "flag" as const, flag: FLAG_NAMES[key] } };
  return file;
}

/** The flag if given, else the file, else the default. */
function pick<K extends ScalarFlag>(
  flags: ParsedFlags,
  key: K,
  file: Sourced<NonNullable<ParsedFlags[K]>> | undefined,
  fallback: NonNullable<ParsedFlags[K]>,
  field: string,
): Sourced<NonNullable<ParsedFlags[K]>> {
  return flagOr(flags, key, file) ?? { value: fallback, origin: { kind: "default", field } };
}

/** Every node takes one pod range out of the pod subnet. */
function checkPodCapacity(count: number, net: ResolvedNetworking, podOrigin: Origin | undefined, issues: IssueList): void {
  const perNode = 1n << BigInt(net.networking.nodeCidrMaskSize - net.podCIDR.prefix);
  if (BigInt(count) <= perNode) return;
  issues.add(podOrigin ?? { kind: "default", field: "networking.podSubnet" }, {
    value: net.networking.podSubnet,
    problem: `has room for the pod ranges of ${perNode} nodes (a /${net.networking.nodeCidrMaskSize} each), not ${count}`,
    allowed: `a larger range, or at most ${perNode} nodes`,
  });
}

/** Node names become hostnames, which Linux caps at 63 characters (a profile name alone may be 63). */
function checkNodeNameLength(profile: Sourced<string>, nodes: readonly NodeConfig[], issues: IssueList): void {
  const longest = nodes.reduce((a, n) => (n.name.length > a.length ? n.name : a), "");
  if (longest.length <= MAX_NODE_NAME) return;
  const room = MAX_NODE_NAME - (longest.length - profile.value.length);
  issues.add(profile.origin, {
    value: profile.value,
    problem: `makes node names too long for hostnames ("${longest}" is ${longest.length} characters, at most ${MAX_NODE_NAME} allowed)`,
    allowed: `a profile name of at most ${room} characters for this cluster`,
  });
}

function checkAddons(flags: ParsedFlags, file: FileSettings, known: readonly string[] | undefined, issues: IssueList): string[] {
  const given: Sourced<string>[] =
    flags.addons?.map((a) => ({ value: a, origin: { kind: "flag", flag: FLAG_NAMES.addons } })) ?? file.addons ?? [];
  const out: string[] = [];
  for (const a of given) {
    const bad = checkDNS1123Label(a.value);
    if (bad)
      issues.add(a.origin, { value: a.value, problem: `as an addon name ${bad.problem}`, allowed: known?.join(", ") ?? bad.allowed });
    else if (known && !known.includes(a.value))
      issues.add(a.origin, { value: a.value, problem: "is not a known addon", allowed: known.join(", ") });
    else if (!out.includes(a.value)) out.push(a.value);
  }
  return out;
}

/** A --mount goes into every node, so it may not land where the file already mounts something on a node. */
function checkMountClashes(slots: readonly NodeSlot[], mounts: readonly Mount[], issues: IssueList): void {
  for (const m of mounts) {
    const clash = slots.flatMap((s) => s.fromFile?.mounts ?? []).find((o) => sameNodePath(o.containerPath, m.containerPath));
    if (clash) {
      issues.add(
        { kind: "flag", flag: FLAG_NAMES.mounts },
        {
          value: `${m.hostPath}:${m.containerPath}`,
          problem: `mounts onto ${m.containerPath}, where the config file already mounts ${clash.hostPath}`,
          allowed: "a node folder that no extraMounts entry of the config file uses",
        },
      );
    }
  }
}

function buildNodes(profile: string, slots: readonly NodeSlot[], clusterImage: string | null, mounts: readonly Mount[]): NodeConfig[] {
  const hasWorkers = slots.some((s) => s.role === "worker");
  const seen = { "control-plane": 0, worker: 0 };
  return slots.map((slot): NodeConfig => {
    const n = ++seen[slot.role];
    const f = slot.fromFile;
    const labels: Record<string, string> = { ...f?.labels };
    const taints: Taint[] = [];
    if (slot.role === "control-plane") {
      labels[CONTROL_PLANE_ROLE_LABEL] = "";
      if (hasWorkers) taints.push({ key: CONTROL_PLANE_ROLE_LABEL, value: "", effect: "NoSchedule" });
    }
    for (const t of f?.taints ?? []) {
      if (!taints.some((o) => o.key === t.key && o.effect === t.effect)) taints.push(t);
    }
    return {
      name: `${profile}-${slot.role}${n > 1 ? n : ""}`,
      role: slot.role,
      image: f?.image ?? clusterImage,
      labels,
      taints,
      extraPortMappings: f?.portMappings.map((m) => m.mapping) ?? [],
      extraMounts: [...(f?.mounts ?? []), ...mounts],
    };
  });
}

function hostPortUses(apiServer: { port: number; address: string; origin: Origin } | undefined, slots: readonly NodeSlot[]): HostPortUse[] {
  const uses: HostPortUse[] = [];
  if (apiServer) {
    uses.push({
      port: apiServer.port,
      listenAddress: apiServer.address,
      protocol: "TCP",
      origin: apiServer.origin,
      owner: "the API server",
    });
  }
  for (const slot of slots) {
    for (const { mapping, path: p } of slot.fromFile?.portMappings ?? []) {
      uses.push({
        port: mapping.hostPort,
        listenAddress: mapping.listenAddress,
        protocol: mapping.protocol,
        origin: { kind: "file", path: [...p, "hostPort"] },
        owner: formatPath(p),
      });
    }
  }
  return uses;
}

/** The addon ports the file sets; those it leaves out are chosen at start, around the others. */
function addonPortUses(file: FileSettings): HostPortUse[] {
  return ADDON_PORT_NAMES.flatMap((n) => {
    const p = file.addonPorts[n];
    if (!p) return [];
    const owner = `addonPorts.${n} (${ADDON_PORTS[n].what})`;
    return ADDON_PORTS[n].protocols.map((protocol) => ({
      port: p.value,
      listenAddress: ADDON_PORT_ADDRESS,
      protocol,
      origin: p.origin,
      owner,
    }));
  });
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
