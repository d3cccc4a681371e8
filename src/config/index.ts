/** The cluster config: the only way raw input (a file, flags) becomes a ClusterConfig. */
export { resolveConfig, type ResolveOptions } from "./resolve.js";
export type { ClusterConfig, Networking, NodeConfig, Taint, PortMapping, Mount } from "./cluster-config.js";
export { CONTROL_PLANE_ROLE_LABEL } from "./cluster-config.js";
export { describeMount } from "./mounts.js";
export { FLAG_NAMES, type ConfigFlags } from "./flags.js";
export { ConfigError, formatIssue, type ConfigIssue } from "./issues.js";
export { validateProfileName, checkProfileName } from "./profile-name.js";
export { DEFAULT_PROFILE, nodeRuntime } from "./defaults.js";
export {
  API_VERSION,
  KIND,
  COMPONENTS,
  NODE_ROLES,
  TAINT_EFFECTS,
  PROTOCOLS,
  CONTAINER_RUNTIMES,
  isContainerRuntime,
  clusterFileSchema,
  type Component,
  type NodeRole,
  type TaintEffect,
  type Protocol,
  type ContainerRuntime,
} from "./schema.js";
