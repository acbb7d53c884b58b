/**
 * Access entries and access policies (cluster authentication modes API and
 * API_AND_CONFIG_MAP): CreateAccessEntry, DescribeAccessEntry,
 * ListAccessEntries, UpdateAccessEntry, DeleteAccessEntry,
 * AssociateAccessPolicy, DisassociateAccessPolicy,
 * ListAssociatedAccessPolicies and ListAccessPolicies.
 *
 * Entries are stored with their associated policies (`_policies`) so the
 * Kubernetes authenticator/authorizer can read one document per principal.
 */
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, invalidRequest, iso, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { getCluster } from './clusters.ts';

const POLICY_PREFIX = 'arn:aws:eks::aws:cluster-access-policy/';

/** The access policies EKS offers (ListAccessPolicies). */
export const ACCESS_POLICIES = [
  'AmazonAIOpsAssistantPolicy',
  'AmazonARCRegionSwitchScalingPolicy',
  'AmazonEKSAdminPolicy',
  'AmazonEKSAdminViewPolicy',
  'AmazonEKSAutoNodePolicy',
  'AmazonEKSBlockStorageClusterPolicy',
  'AmazonEKSBlockStoragePolicy',
  'AmazonEKSClusterAdminPolicy',
  'AmazonEKSClusterInsightsPolicy',
  'AmazonEKSComputeClusterPolicy',
  'AmazonEKSComputePolicy',
  'AmazonEKSEditPolicy',
  'AmazonEKSHybridPolicy',
  'AmazonEKSLoadBalancingClusterPolicy',
  'AmazonEKSLoadBalancingPolicy',
  'AmazonEKSNetworkingClusterPolicy',
  'AmazonEKSNetworkingPolicy',
  'AmazonEKSSecretReaderPolicy',
  'AmazonEKSViewPolicy',
  'AmazonEMRJobPolicy',
  'AmazonSagemakerHyperpodClusterPolicy',
  'AmazonSagemakerHyperpodControllerPolicy',
  'AmazonSagemakerHyperpodSystemNamespacePolicy',
].map((name) => ({ name, arn: `${POLICY_PREFIX}${name}` }));

const TYPES = ['STANDARD', 'FARGATE_LINUX', 'EC2_LINUX', 'EC2_WINDOWS', 'EC2', 'HYBRID_LINUX', 'HYPERPOD_LINUX'];

/** principalOfCaller: the IAM principal ARN of the caller (an assumed-role session maps to its role). */
export function principalOfCaller(ctx: Pick<RequestContext, 'callerArn' | 'accountId'>): string {
  const a = ctx.callerArn || `arn:aws:iam::${ctx.accountId}:root`;
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(a);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : a;
}

function parsePrincipal(p: string): { kind: 'role' | 'user' | 'root'; account: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(p);
  if (m) return { kind: m[2] as 'role' | 'user', account: m[1]!, name: m[3]! };
  const r = /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(p);
  if (r) return { kind: 'root', account: r[1]!, name: 'root' };
  return undefined;
}

export interface StoredPolicy {
  policyArn: string;
  accessScope: { type: string; namespaces: string[] };
  associatedAt: string;
  modifiedAt: string;
}

/** accessEntryDoc builds a stored access entry (AccessEntry shape + _policies). */
export function accessEntryDoc(
  scope: Scope,
  cluster: string,
  principalArn: string,
  now: string,
  p: { type?: string; username?: string; kubernetesGroups?: string[]; tags?: Record<string, string>; policies?: StoredPolicy[]; key: string },
): any {
  const pr = parsePrincipal(principalArn);
  const type = p.type ?? 'STANDARD';
  const defaultUser =
    type === 'EC2_LINUX' || type === 'EC2_WINDOWS' || type === 'EC2' || type === 'HYBRID_LINUX' || type === 'HYPERPOD_LINUX'
      ? 'system:node:{{EC2PrivateDNSName}}'
      : type === 'FARGATE_LINUX'
        ? 'system:node:{{SessionName}}'
        : pr?.kind === 'role'
          ? `arn:aws:sts::${pr.account}:assumed-role/${pr.name}/{{SessionName}}`
          : principalArn;
  const groups = type === 'STANDARD' ? (p.kubernetesGroups ?? []) : type === 'EC2_WINDOWS' ? ['system:nodes', 'eks:kube-proxy-windows'] : ['system:nodes'];
  return {
    clusterName: cluster,
    principalArn,
    kubernetesGroups: groups,
    accessEntryArn: arn(scope, `access-entry/${cluster}/${pr?.kind ?? 'role'}/${pr?.account ?? scope.accountId}/${pr?.name ?? 'unknown'}/${uuid()}`),
    createdAt: now,
    modifiedAt: now,
    tags: p.tags ?? {},
    username: p.username ?? defaultUser,
    type,
    _policies: p.policies ?? [],
    _key: p.key,
  };
}

/**
 * nodeAccessEntryOps: when a node group or Fargate profile is created on a
 * cluster whose authentication mode includes API, EKS creates an access
 * entry of type EC2_LINUX / EC2_WINDOWS / FARGATE_LINUX for its role (if
 * the role has none), so its nodes can join. Returns the write, if any.
 */
export function nodeAccessEntryOps(e: EksContext, ctx: Pick<RequestContext, 'accountId' | 'region' | 'now'>, cluster: any, roleArn: string, type: string): { op: 'put'; key: string; doc: any }[] {
  if ((cluster.accessConfig?.authenticationMode ?? 'CONFIG_MAP') === 'CONFIG_MAP') return [];
  if (!parsePrincipal(roleArn) || parsePrincipal(roleArn)!.kind !== 'role') return [];
  const scope = scopeOf(ctx);
  const key = childKey(scope, 'access', cluster.name, roleArn);
  if (e.deps.state.get(key)) return [];
  return [{ op: 'put', key, doc: accessEntryDoc(scope, cluster.name, roleArn, iso(ctx), { type, key }) }];
}

/**
 * entriesForExistingCompute: when a cluster moves from CONFIG_MAP to an API
 * mode, its managed node groups and Fargate profiles get the access entries
 * EKS creates for their roles (as if created under the new mode).
 */
export function entriesForExistingCompute(e: EksContext, scope: { accountId: string; region: string }, cluster: any): { op: 'put'; key: string; doc: any }[] {
  const ctx = { ...scope, now: () => e.deps.clock.now() };
  const ops: { op: 'put'; key: string; doc: any }[] = [];
  const seen = new Set<string>();
  const add = (role: string, type: string) => {
    if (seen.has(role)) return;
    seen.add(role);
    ops.push(...nodeAccessEntryOps(e, ctx, cluster, role, type));
  };
  for (const ng of e.deps.state.list<any>(childPrefix(scope, 'nodegroup', cluster.name))) add(ng.nodeRole, String(ng.amiType).startsWith('WINDOWS') ? 'EC2_WINDOWS' : 'EC2_LINUX');
  for (const fp of e.deps.state.list<any>(childPrefix(scope, 'fargate', cluster.name))) add(fp.podExecutionRoleArn, 'FARGATE_LINUX');
  return ops;
}

export function accessOperations(e: EksContext) {
  const { deps } = e;
  const apiCluster = (ctx: RequestContext, name: string) => {
    const c = getCluster(e, ctx, name);
    if ((c.accessConfig?.authenticationMode ?? 'CONFIG_MAP') === 'CONFIG_MAP') {
      throw invalidRequest("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.", { clusterName: name });
    }
    return c;
  };
  const entry = (ctx: RequestContext, cluster: string, principalArn: string) => {
    const key = childKey(scopeOf(ctx), 'access', cluster, principalArn);
    const d = deps.state.get<any>(key);
    if (!d) throw notFound(`The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`, { clusterName: cluster });
    return d;
  };
  const checkPolicy = (policyArn: string) => {
    if (!ACCESS_POLICIES.some((p) => p.arn === policyArn)) throw invalidParameter(`The specified policyArn is invalid: ${policyArn}`);
  };
  const checkScope = (s: any) => {
    if (!s?.type) throw invalidParameter('accessScope type is required');
    if (s.type === 'cluster' && s.namespaces?.length) throw invalidParameter('Namespaces cannot be specified when the access scope type is cluster');
    if (s.type === 'namespace' && !s.namespaces?.length) throw invalidParameter('At least one namespace must be specified when the access scope type is namespace');
  };

  return {
    CreateAccessEntry: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.principalArn}`, input.clientRequestToken, async () => {
        apiCluster(ctx, input.clusterName);
        const f = { clusterName: input.clusterName };
        const pr = parsePrincipal(input.principalArn);
        if (!pr || pr.kind === 'root') throw invalidParameter(`The specified principalArn is invalid: invalid principal ${input.principalArn}`, f);
        const type: string = input.type ?? 'STANDARD';
        if (!TYPES.includes(type)) throw invalidParameter(`The access entry type ${type} is invalid. Valid types are ${TYPES.join(', ')}`, f);
        if (type !== 'STANDARD' && (input.kubernetesGroups?.length || input.username)) {
          throw invalidParameter(`Username and kubernetesGroups cannot be specified for access entries of type ${type}`, f);
        }
        if (type !== 'STANDARD' && pr.kind !== 'role') throw invalidParameter(`Access entries of type ${type} must use an IAM role principal`, f);
        for (const g of input.kubernetesGroups ?? []) if (g.startsWith('system:')) throw invalidParameter(`The kubernetes group ${g} is invalid: groups cannot start with system:`, f);
        if (input.username && /^system:/.test(input.username) && !/^system:node:/.test(input.username)) throw invalidParameter(`The username ${input.username} is invalid: usernames cannot start with system:`, f);
        validateTags(input.tags);
        if (e.refs.checks && pr.kind === 'role' && pr.account === ctx.accountId && !(await e.refs.role(input.principalArn))) {
          throw invalidParameter(`The specified principalArn is invalid: the principal ${input.principalArn} does not exist`, f);
        }
        const key = childKey(scopeOf(ctx), 'access', input.clusterName, input.principalArn);
        if (deps.state.get(key)) throw inUse('The specified access entry resource is already in use on this cluster.', f);
        const doc = accessEntryDoc(scopeOf(ctx), input.clusterName, input.principalArn, iso(ctx), {
          type,
          username: input.username,
          kubernetesGroups: input.kubernetesGroups,
          tags: input.tags,
          key,
        });
        try {
          await deps.state.commit([{ op: 'create', key, doc }]);
        } catch {
          throw inUse('The specified access entry resource is already in use on this cluster.', f);
        }
        return { accessEntry: doc };
      }),

    DescribeAccessEntry: (input: any, ctx: RequestContext) => {
      apiCluster(ctx, input.clusterName);
      return { accessEntry: out(entry(ctx, input.clusterName, input.principalArn)) };
    },

    ListAccessEntries: (input: any, ctx: RequestContext) => {
      apiCluster(ctx, input.clusterName);
      let list = deps.state.list<any>(childPrefix(scopeOf(ctx), 'access', input.clusterName));
      if (input.associatedPolicyArn) list = list.filter((a) => a._policies.some((p: StoredPolicy) => p.policyArn === input.associatedPolicyArn));
      const arns = list.map((a) => a.principalArn as string).sort();
      const { page, nextToken } = paginate(arns, (x) => x, input.maxResults, input.nextToken);
      return { accessEntries: page, nextToken };
    },

    UpdateAccessEntry: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.principalArn}`, input.clientRequestToken, async () => {
        apiCluster(ctx, input.clusterName);
        const cur = entry(ctx, input.clusterName, input.principalArn);
        const f = { clusterName: input.clusterName };
        if (cur.type !== 'STANDARD' && (input.kubernetesGroups !== undefined || input.username !== undefined)) {
          throw invalidParameter(`Username and kubernetesGroups cannot be specified for access entries of type ${cur.type}`, f);
        }
        for (const g of input.kubernetesGroups ?? []) if (g.startsWith('system:')) throw invalidParameter(`The kubernetes group ${g} is invalid: groups cannot start with system:`, f);
        const next = await deps.state.mutate<any>(cur._key, (d) => {
          if (!d) return d;
          if (input.kubernetesGroups !== undefined) d.kubernetesGroups = input.kubernetesGroups;
          if (input.username !== undefined) d.username = input.username;
          d.modifiedAt = iso(ctx);
          return d;
        });
        return { accessEntry: next };
      }),

    DeleteAccessEntry: async (input: any, ctx: RequestContext) => {
      apiCluster(ctx, input.clusterName);
      const cur = entry(ctx, input.clusterName, input.principalArn);
      await deps.state.commit([{ op: 'delete', key: cur._key }]);
      return {};
    },

    AssociateAccessPolicy: async (input: any, ctx: RequestContext) => {
      apiCluster(ctx, input.clusterName);
      const cur = entry(ctx, input.clusterName, input.principalArn);
      checkPolicy(input.policyArn);
      checkScope(input.accessScope);
      if (cur.type !== 'STANDARD') throw invalidParameter(`Access policies can only be associated with access entries of type STANDARD`, { clusterName: input.clusterName });
      const now = iso(ctx);
      const scope = { type: input.accessScope.type, namespaces: input.accessScope.namespaces ?? [] };
      const next = await deps.state.mutate<any>(cur._key, (d) => {
        if (!d) return d;
        const existing = d._policies.find((p: StoredPolicy) => p.policyArn === input.policyArn);
        if (existing) {
          existing.accessScope = scope;
          existing.modifiedAt = now;
        } else d._policies.push({ policyArn: input.policyArn, accessScope: scope, associatedAt: now, modifiedAt: now });
        return d;
      });
      const assoc = next._policies.find((p: StoredPolicy) => p.policyArn === input.policyArn);
      return { clusterName: input.clusterName, principalArn: input.principalArn, associatedAccessPolicy: out(assoc) };
    },

    DisassociateAccessPolicy: async (input: any, ctx: RequestContext) => {
      apiCluster(ctx, input.clusterName);
      const cur = entry(ctx, input.clusterName, input.principalArn);
      if (!cur._policies.some((p: StoredPolicy) => p.policyArn === input.policyArn)) {
        throw notFound(`The specified policy ${input.policyArn} is not associated with the principal ${input.principalArn}.`, { clusterName: input.clusterName });
      }
      await deps.state.mutate<any>(cur._key, (d) => {
        if (!d) return d;
        d._policies = d._policies.filter((p: StoredPolicy) => p.policyArn !== input.policyArn);
        return d;
      });
      return {};
    },

    ListAssociatedAccessPolicies: (input: any, ctx: RequestContext) => {
      apiCluster(ctx, input.clusterName);
      const cur = entry(ctx, input.clusterName, input.principalArn);
      const list = [...cur._policies].sort((a: StoredPolicy, b: StoredPolicy) => (a.policyArn < b.policyArn ? -1 : 1));
      const { page, nextToken } = paginate(list, (p: StoredPolicy) => p.policyArn, input.maxResults, input.nextToken);
      return { clusterName: input.clusterName, principalArn: input.principalArn, associatedAccessPolicies: out(page), nextToken };
    },

    ListAccessPolicies: (input: any) => {
      const { page, nextToken } = paginate(ACCESS_POLICIES, (p) => p.name, input.maxResults, input.nextToken);
      return { accessPolicies: page, nextToken };
    },
  };
}
