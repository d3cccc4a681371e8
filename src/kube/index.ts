// A thin layer over @kubernetes/client-node: a client from kubeyard's own PKI, server-side apply,
// delete by label, and waits that watch instead of sleeping.
export { kubeClient, kubeClientFromKubeconfigFile, type ClientCredentials } from "./client.js";
export { describeRef, refOf, type KindRef, type KubeObject, type ObjectMeta, type ObjectRef } from "./types.js";
export { KubeApiError, getObject, listObjects, isNotFound, mergePatchStatus, type ListQuery, type ObjectList } from "./object-api.js";
export { serverSideApply, type ApplyOptions } from "./apply.js";
export { applyOrder, applyRank, isCrd, isNamespace } from "./apply-order.js";
export { deleteByLabel } from "./delete.js";
export {
  waitForApiReady,
  waitForNodeReady,
  waitForDeploymentAvailable,
  waitForDaemonSetReady,
  waitForPodsReady,
  waitForCondition,
  waitForObject,
  waitForDeleted,
} from "./wait.js";
export { followObjects, waitUntil, WaitTimeoutError, type WaitOptions } from "./watch.js";
export {
  conditionVerdict,
  daemonSetVerdict,
  deploymentVerdict,
  nodesVerdict,
  podNodeName,
  podsVerdict,
  type Verdict,
} from "./readiness.js";
