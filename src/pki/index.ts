// The cluster PKI: every CA, certificate and key a kubeyard cluster uses, and their files. Code that
// needs only the layout (layout.js) or the stored files (store.js) imports those: X.509's modules,
// which the rest loads, take a third of a second, and a start loads them while its containers are made.
export { firstServiceIP, serviceIPs, normalizeIp } from "./ip.js";
export { pkiPaths, rootMaterial, fileMode, checkNodeName, type PkiBundle, type CertKeyPaths } from "./layout.js";
export { generateCas, casFromBundle, casToBundle, missingCaFiles, type ClusterCas, type CaOptions } from "./cas.js";
export { generateClusterPki, issueNodeCerts, apiserverSans, type ClusterPkiSpec, type PkiNode, type IssueOptions } from "./cluster.js";
export { writePki, loadPki } from "./store.js";
export { ensureClusterPki, addNode } from "./provision.js";
export { certNotAfter, certExpiresSoon } from "./inspect.js";
export type { CertAuthority, CertUsage } from "./issue.js";
