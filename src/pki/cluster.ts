import { isIP } from "node:net";
import { casToBundle, generateCas, type ClusterCas } from "./cas.js";
import { issueCert, type CertAuthority, type LeafRequest } from "./issue.js";
import { normalizeIp, serviceIPs } from "./ip.js";
import { checkNodeName, pkiPaths, type CertKeyPaths, type PkiBundle } from "./layout.js";
import { UserError } from "../util/errors.js";

export interface PkiNode {
  /** The Kubernetes Node name (also the etcd member name on a control-plane node). */
  name: string;
  /** The address the node is reached at (IPv4 or IPv6). */
  ip: string;
}

export interface ClusterPkiSpec {
  /** Service CIDR, or two comma-separated ones for dual-stack; e.g. "10.96.0.0/12". */
  serviceSubnet: string;
  /** Cluster DNS domain; default "cluster.local". */
  dnsDomain?: string;
  /** Nodes running etcd and the control plane; at least one. */
  controlPlanes: readonly PkiNode[];
  /** Worker nodes. Control-plane nodes run a kubelet too, so they need not be repeated here. */
  nodes?: readonly PkiNode[];
  /** Further names for the API server certificate: DNS names or IPs, e.g. a load balancer's. */
  extraSans?: readonly string[];
  /** Validity of every non-CA certificate, in days; default 365. */
  certValidityDays?: number;
  /** Prefix of the CAs' common names; default "kubeyard". Ignored when CAs are passed in. */
  clusterName?: string;
}

export interface IssueOptions {
  /** Validity of the issued certificates, in days; default 365. */
  certValidityDays?: number;
  /** The time certificates are issued at; default now. */
  now?: Date;
}

const DEFAULT_VALIDITY_DAYS = 365;
const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function checkNode(node: PkiNode): PkiNode {
  checkNodeName(node.name);
  const ip = normalizeIp(node.ip);
  if (!ip) throw new UserError(`node "${node.name}" has an invalid IP address "${node.ip}"`, "give an IPv4 or IPv6 address");
  return { name: node.name, ip };
}

function checkValidity(days: number | undefined): number {
  const value = days ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(value) || value < 1) {
    throw new UserError(`invalid certificate validity "${days}"`, "give a whole number of days, at least 1");
  }
  return value;
}

/** Splits extra SANs into DNS names and IPs, as the certificate stores them. */
function classifySans(sans: readonly string[]): { dnsNames: string[]; ips: string[] } {
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const raw of sans) {
    const san = raw.trim();
    if (isIP(san)) {
      ips.push(normalizeIp(san)!);
    } else if (san.length <= 253 && DNS_NAME.test(san.toLowerCase())) {
      dnsNames.push(san.toLowerCase());
    } else {
      throw new UserError(`invalid extra SAN "${raw}"`, 'give a DNS name (e.g. "k8s.example.test") or an IP address');
    }
  }
  return { dnsNames, ips };
}

/** Every name a client may reach kube-apiserver by, in-cluster and from the host. */
export function apiserverSans(spec: ClusterPkiSpec): { dnsNames: string[]; ips: string[] } {
  const domain = (spec.dnsDomain ?? "cluster.local").toLowerCase();
  if (!DNS_NAME.test(domain) || domain.startsWith("*")) {
    throw new UserError(`invalid DNS domain "${spec.dnsDomain}"`, 'give a domain such as "cluster.local"');
  }
  const controlPlanes = spec.controlPlanes.map(checkNode);
  const extra = classifySans(spec.extraSans ?? []);
  return {
    dnsNames: unique([
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      `kubernetes.default.svc.${domain}`,
      "localhost",
      ...controlPlanes.map((n) => n.name),
      ...extra.dnsNames,
    ]),
    ips: unique([...serviceIPs(spec.serviceSubnet), "127.0.0.1", ...controlPlanes.map((n) => n.ip), ...extra.ips]),
  };
}

type Issue = Omit<LeafRequest, "now" | "validityDays">;

/** Issues certificates in parallel and lays them out as bundle files. */
async function issueAll(jobs: [CertKeyPaths, CertAuthority, Issue][], options: IssueOptions): Promise<PkiBundle> {
  const validityDays = checkValidity(options.certValidityDays);
  const now = options.now ?? new Date();
  const issued = await Promise.all(jobs.map(([, ca, request]) => issueCert(ca, { ...request, now, validityDays })));
  const files: PkiBundle = {};
  jobs.forEach(([paths], i) => {
    files[paths.cert] = issued[i]!.certPem;
    files[paths.key] = issued[i]!.keyPem;
  });
  return files;
}

function nodeJobs(cas: ClusterCas, node: PkiNode): [CertKeyPaths, CertAuthority, Issue][] {
  return [
    [
      pkiPaths.kubeletClient(node.name),
      cas.ca,
      { commonName: `system:node:${node.name}`, organizations: ["system:nodes"], usage: "client" },
    ],
    [
      pkiPaths.kubeletServing(node.name),
      cas.ca,
      {
        commonName: `system:node:${node.name}`,
        organizations: ["system:nodes"],
        usage: "server",
        dnsNames: unique([node.name, "localhost"]),
        ips: unique([node.ip, "127.0.0.1"]),
      },
    ],
  ];
}

function etcdMemberJobs(cas: ClusterCas, member: PkiNode): [CertKeyPaths, CertAuthority, Issue][] {
  // Members dial each other and are dialled, so both certificates serve and authenticate.
  const names = { dnsNames: unique([member.name, "localhost"]), ips: unique([member.ip, "127.0.0.1", "::1"]) };
  return [
    [pkiPaths.etcdServer(member.name), cas.etcdCa, { commonName: member.name, usage: "client+server", ...names }],
    [pkiPaths.etcdPeer(member.name), cas.etcdCa, { commonName: member.name, usage: "client+server", ...names }],
  ];
}

/** The kubelet client and serving certificates of one node (worker or control plane). */
export async function issueNodeCerts(cas: ClusterCas, node: PkiNode, options: IssueOptions = {}): Promise<PkiBundle> {
  return issueAll(nodeJobs(cas, checkNode(node)), options);
}

/** Every node once, control planes first; a node listed twice must be listed with one IP. */
function allNodes(spec: ClusterPkiSpec): PkiNode[] {
  const byName = new Map<string, PkiNode>();
  for (const node of [...spec.controlPlanes, ...(spec.nodes ?? [])].map(checkNode)) {
    const seen = byName.get(node.name);
    if (seen && seen.ip !== node.ip) {
      throw new UserError(`node "${node.name}" is listed with two IPs, ${seen.ip} and ${node.ip}`, "give each node one name and one IP");
    }
    byName.set(node.name, node);
  }
  return [...byName.values()];
}

/**
 * Every certificate and key a cluster needs. Pass `cas` (see {@link casFromBundle}) to issue
 * from an existing cluster's CAs; otherwise new CAs are made and included in the bundle.
 */
export async function generateClusterPki(spec: ClusterPkiSpec, options: { cas?: ClusterCas; now?: Date } = {}): Promise<PkiBundle> {
  if (spec.controlPlanes.length === 0) {
    throw new UserError("a cluster needs at least one control-plane node", "add a control-plane node to the cluster config");
  }
  // Validate everything before spending time on keys.
  const sans = apiserverSans(spec);
  const nodes = allNodes(spec);
  const controlPlaneNames = new Set(spec.controlPlanes.map((n) => n.name));
  const controlPlanes = nodes.filter((n) => controlPlaneNames.has(n.name));
  checkValidity(spec.certValidityDays);

  const now = options.now ?? new Date();
  const cas = options.cas ?? (await generateCas({ clusterName: spec.clusterName, now }));
  const jobs: [CertKeyPaths, CertAuthority, Issue][] = [
    [pkiPaths.apiserver, cas.ca, { commonName: "kube-apiserver", usage: "server", ...sans }],
    [
      pkiPaths.apiserverKubeletClient,
      cas.ca,
      { commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"], usage: "client" },
    ],
    [pkiPaths.apiserverEtcdClient, cas.etcdCa, { commonName: "kube-apiserver-etcd-client", usage: "client" }],
    [pkiPaths.frontProxyClient, cas.frontProxyCa, { commonName: "front-proxy-client", usage: "client" }],
    [pkiPaths.etcdHealthcheckClient, cas.etcdCa, { commonName: "kube-etcd-healthcheck-client", usage: "client" }],
    [pkiPaths.admin, cas.ca, { commonName: "kubernetes-admin", organizations: ["system:masters"], usage: "client" }],
    [pkiPaths.controllerManager, cas.ca, { commonName: "system:kube-controller-manager", usage: "client" }],
    [pkiPaths.scheduler, cas.ca, { commonName: "system:kube-scheduler", usage: "client" }],
    ...controlPlanes.flatMap((member) => etcdMemberJobs(cas, member)),
    ...nodes.flatMap((node) => nodeJobs(cas, node)),
  ];
  const leaves = await issueAll(jobs, { now, certValidityDays: spec.certValidityDays });
  return { ...casToBundle(cas), ...leaves };
}
