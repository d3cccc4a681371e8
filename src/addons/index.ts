// The addon engine: addons are data in addons/<name>/ (a descriptor and manifests); this reads,
// checks and renders them, and enables or disables them on a running cluster.
export { listAddons, addonNames, getAddon, addonsDir, DESCRIPTOR_FILE, type Addon, type ManifestFile } from "./catalog.js";
export {
  checkDescriptor,
  type AddonDescriptor,
  type AddonValue,
  type ReadinessCheck,
  type HostProbe,
  type NodeFile,
  type ValueSpec,
  type ValueType,
} from "./descriptor.js";
export { descriptorSchema, knownImageNames } from "./descriptor-schema.js";
export { resolveValues, describeValues, type ResolvedValues } from "./values.js";
export { addonContext, type AddonContext, type ClusterFacts } from "./context.js";
export { renderAddon, renderText } from "./render.js";
export { withArtifactManifests } from "./artifact-manifests.js";
export { enableAddon, disableAddon, waitForAddonReady, addonKinds, type AddonOptions, type DisableResult } from "./lifecycle.js";
export { addonLabels, addonSelector, ADDON_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from "./labels.js";
