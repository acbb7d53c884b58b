/**
 * What other parts of localeks read from (and the little they write to) the
 * EKS state: the Kubernetes side (authentication with access entries,
 * node and Fargate simulators, add-on objects, IRSA and Pod Identity) uses
 * only these functions, never the EKS provider's internals.
 *
 * All reads are synchronous from the AwsState cache and return the stored
 * documents in the model's shapes (Cluster, Nodegroup, Addon, AccessEntry,
 * FargateProfile, PodIdentityAssociation), with timestamps as ISO strings
 * and private members (`_uid`, `_endpointId`, `_policies`, ...) included.
 * Treat them as read-only.
 */
import type { AwsState, Scope } from '../core/state.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { childKey, childPrefix, clusterKey, clustersPrefix } from './common.ts';
import { toClusterInfo } from './cluster-directory.ts';
import { rescheduleTransition } from './transition-timers.ts';

export { createClusterDirectory, toClusterInfo } from './cluster-directory.ts';

/** The scope (account, region) of a ClusterInfo. */
export function scopeOfCluster(c: Pick<ClusterInfo, 'accountId' | 'region'>): Scope {
  return { accountId: c.accountId, region: c.region };
}

/** getCluster returns the stored Cluster document, or undefined. */
export function getCluster(state: AwsState, scope: Scope, name: string): any | undefined {
  return state.get(clusterKey(scope, name));
}

/** listClusters returns every stored cluster of one account and region. */
export function listClusters(state: AwsState, scope: Scope): any[] {
  return state.list(clustersPrefix(scope));
}

/** clusterInfoOf maps a stored cluster of a scope to ClusterInfo. */
export function clusterInfoOf(state: AwsState, scope: Scope, name: string): ClusterInfo | undefined {
  const d = getCluster(state, scope, name);
  return d ? toClusterInfo(d, scope.accountId, scope.region) : undefined;
}

/** An access entry with its associated access policies (what authn/authz need). */
export interface AccessEntryWithPolicies {
  principalArn: string;
  type: string;
  username: string;
  kubernetesGroups: string[];
  policies: { policyArn: string; accessScope: { type: string; namespaces: string[] } }[];
}

function withPolicies(d: any): AccessEntryWithPolicies {
  return {
    principalArn: d.principalArn,
    type: d.type,
    username: d.username,
    kubernetesGroups: d.kubernetesGroups ?? [],
    policies: (d._policies ?? []).map((p: any) => ({ policyArn: p.policyArn, accessScope: p.accessScope })),
  };
}

/**
 * findAccessEntry returns the access entry of an IAM principal ARN (a role
 * or user ARN; map an assumed-role session ARN to its role ARN first).
 */
export function findAccessEntry(state: AwsState, cluster: ClusterInfo, principalArn: string): AccessEntryWithPolicies | undefined {
  const d = state.get<any>(childKey(scopeOfCluster(cluster), 'access', cluster.name, principalArn));
  return d ? withPolicies(d) : undefined;
}

/** listAccessEntries returns every access entry of a cluster. */
export function listAccessEntries(state: AwsState, cluster: ClusterInfo): AccessEntryWithPolicies[] {
  return state.list<any>(childPrefix(scopeOfCluster(cluster), 'access', cluster.name)).map(withPolicies);
}

/** The cluster's authentication mode: CONFIG_MAP, API_AND_CONFIG_MAP or API. */
export function authenticationMode(state: AwsState, cluster: ClusterInfo): string {
  return getCluster(state, scopeOfCluster(cluster), cluster.name)?.accessConfig?.authenticationMode ?? 'CONFIG_MAP';
}

/** The IAM principal ARN that created the cluster (bootstrap cluster admin). */
export function clusterCreatorArn(state: AwsState, cluster: ClusterInfo): string | undefined {
  return getCluster(state, scopeOfCluster(cluster), cluster.name)?._creatorArn;
}

/** listNodegroups / listFargateProfiles / listAddons / listPodIdentityAssociations of a cluster. */
export function listNodegroups(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>): any[] {
  return state.list(childPrefix(scopeOfCluster(cluster), 'nodegroup', cluster.name));
}
export function listFargateProfiles(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>): any[] {
  return state.list(childPrefix(scopeOfCluster(cluster), 'fargate', cluster.name));
}
export function listAddons(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>): any[] {
  return state.list(childPrefix(scopeOfCluster(cluster), 'addon', cluster.name));
}
export function listPodIdentityAssociations(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>): any[] {
  return state.list(childPrefix(scopeOfCluster(cluster), 'podid', cluster.name));
}

/** findPodIdentityAssociation returns the association of a namespace/service account, if any. */
export function findPodIdentityAssociation(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>, namespace: string, serviceAccount: string): any | undefined {
  return listPodIdentityAssociations(state, cluster).find((p) => p.namespace === namespace && p.serviceAccount === serviceAccount);
}

/** One deprecated API seen in requests to a cluster's Kubernetes API. */
export interface DeprecatedApiUsage {
  /** e.g. /apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas */
  usage: string;
  /** e.g. flowcontrol.apiserver.k8s.io/v1 */
  replacedWith?: string;
  /** Kubernetes version that stops serving it, e.g. 1.32 */
  stopServingVersion: string;
  /** Kubernetes version that serves the replacement, e.g. 1.29 */
  startServingReplacementVersion?: string;
  /** Per user agent: how many requests in the last 30 days and when the last one was. */
  clientStats: { userAgent: string; numberOfRequestsLast30Days: number; lastRequestTime: string }[];
}

/**
 * recordDeprecatedApiUsage stores the deprecated APIs seen by a cluster's
 * Kubernetes API (the Kubernetes side calls this, replacing the previous
 * record); upgrade insights ("Deprecated APIs removed in Kubernetes vX")
 * report them for the version that stops serving them.
 */
export async function recordDeprecatedApiUsage(state: AwsState, cluster: ClusterInfo, usages: DeprecatedApiUsage[]): Promise<void> {
  const key = childKey(scopeOfCluster(cluster), 'insights', cluster.name, 'api-usage');
  await state.commit([{ op: 'put', key, doc: { usages, _key: key } }]);
}

/** deprecatedApiUsage returns the stored record of recordDeprecatedApiUsage (empty when none). */
export function deprecatedApiUsage(state: AwsState, cluster: ClusterInfo): DeprecatedApiUsage[] {
  const doc = state.get<{ usages?: DeprecatedApiUsage[] }>(childKey(scopeOfCluster(cluster), 'insights', cluster.name, 'api-usage'));
  return doc?.usages ?? [];
}

/**
 * An in-flight transition of a stored EKS resource (`_tx` of its document):
 * what is happening (create/update/delete), until when (simulated epoch ms),
 * the Update it completes and the change it applies (`patch`: for a node
 * group version update `version`, `releaseVersion`, `launchTemplate` and
 * `_force`). The EKS controller completes it once `until` has passed.
 */
export interface PendingTransition {
  id: string;
  op: 'create' | 'update' | 'delete';
  until: number;
  updateId?: string;
  patch?: Record<string, unknown>;
  fail?: { errorCode: string; errorMessage: string };
}

/** getNodegroup returns the stored Nodegroup document (with `_tx` while in transition), or undefined. */
export function getNodegroup(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>, name: string): any | undefined {
  return state.get(childKey(scopeOfCluster(cluster), 'nodegroup', cluster.name, name));
}

/**
 * holdNodegroupTransition moves the deadline of a node group's transition
 * (e.g. a rolling update still replacing nodes keeps it UPDATING until
 * `untilMs`). Returns false when the node group has no transition.
 */
export async function holdNodegroupTransition(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>, name: string, untilMs: number): Promise<boolean> {
  const key = childKey(scopeOfCluster(cluster), 'nodegroup', cluster.name, name);
  let held = false;
  await state.mutate<any>(key, (d) => {
    if (!d?._tx) return d;
    held = true;
    d._tx.until = untilMs;
    return d;
  });
  if (held) rescheduleTransition(state, key);
  return held;
}

/**
 * The lifecycle hook EKS puts on a managed node group's Auto Scaling group:
 * Auto Scaling holds an instance it terminates (scale-in, an instance
 * terminated in the group, the node group's deletion) in Terminating:Wait until EKS has drained its node
 * and completes the action, or for at most the heartbeat timeout (30
 * minutes). localeks adds it only when a data plane runs (nodegroupRollouts),
 * which completes it (sim/controllers/nodegroup-scale-in.ts).
 */
export const MANAGED_NODEGROUP_TERMINATE_HOOK = {
  LifecycleHookName: 'Terminate-LC-Hook',
  LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
  HeartbeatTimeout: 1800,
  DefaultResult: 'CONTINUE',
} as const;

/**
 * How long a node group update with a data plane waits for the rollout
 * (sim/controllers/nodegroup-rollout.ts keeps pushing it while it works,
 * then completes the update sooner); an update whose rollout did not finish
 * by then fails.
 */
export const ROLLOUT_HOLD_MS: Record<string, number> = { instant: 6 * 3_600_000, fast: 6 * 3_600_000, realistic: 24 * 3_600_000 };

/**
 * updateNodegroupRollout stores the progress of the rollout the data plane
 * runs for a node group update (`_tx.patch._rollout`, see
 * sim/controllers/nodegroup-rollout.ts), if that update (txId) is still the
 * one in progress. Returns false otherwise.
 */
export async function updateNodegroupRollout(state: AwsState, cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>, name: string, txId: string, rollout: unknown): Promise<boolean> {
  const key = childKey(scopeOfCluster(cluster), 'nodegroup', cluster.name, name);
  let stored = false;
  await state.mutate<any>(key, (d) => {
    if (d?._tx?.id !== txId || !d._tx.patch) return d;
    stored = true;
    d._tx.patch._rollout = rollout;
    return d;
  });
  return stored;
}

/**
 * failNodegroupUpdate makes a node group's update end Failed with an
 * error (e.g. PodEvictionFailure when a PodDisruptionBudget blocks the
 * rollout and the update was not forced) at `atMs` (default now): the node
 * group returns to ACTIVE without the change and the Update lists the error.
 */
export async function failNodegroupUpdate(
  state: AwsState,
  cluster: Pick<ClusterInfo, 'accountId' | 'region' | 'name'>,
  name: string,
  error: { errorCode: string; errorMessage: string; resourceIds?: string[] },
  atMs: number,
): Promise<boolean> {
  const key = childKey(scopeOfCluster(cluster), 'nodegroup', cluster.name, name);
  let failed = false;
  await state.mutate<any>(key, (d) => {
    if (!d?._tx || d._tx.op !== 'update') return d;
    failed = true;
    d._tx.fail = error;
    d._tx.until = atMs;
    return d;
  });
  if (failed) rescheduleTransition(state, key);
  return failed;
}
