/**
 * EKS Pod Identity associations: CreatePodIdentityAssociation,
 * DescribePodIdentityAssociation, ListPodIdentityAssociations,
 * UpdatePodIdentityAssociation, DeletePodIdentityAssociation. One
 * association per namespace and service account; add-ons own theirs
 * (ownerArn) and only the add-on may change or delete them.
 */
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, iso, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { checkRole, getCluster } from './clusters.ts';

function assocId(): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = 'a-';
  for (let i = 0; i < 17; i++) s += abc[Math.floor(Math.random() * abc.length)];
  return s;
}

/** podIdentityDoc builds a stored PodIdentityAssociation. */
export function podIdentityDoc(
  scope: Scope,
  cluster: string,
  now: string,
  p: { namespace: string; serviceAccount: string; roleArn: string; ownerArn?: string; tags?: Record<string, string>; targetRoleArn?: string; disableSessionTags?: boolean; policy?: string },
): any {
  const id = assocId();
  const key = childKey(scope, 'podid', cluster, id);
  return {
    clusterName: cluster,
    namespace: p.namespace,
    serviceAccount: p.serviceAccount,
    roleArn: p.roleArn,
    associationArn: arn(scope, `podidentityassociation/${cluster}/${id}`),
    associationId: id,
    tags: p.tags ?? {},
    createdAt: now,
    modifiedAt: now,
    ownerArn: p.ownerArn,
    disableSessionTags: p.disableSessionTags ?? false,
    targetRoleArn: p.targetRoleArn,
    externalId: p.targetRoleArn ? uuid() : undefined,
    policy: p.policy,
    _key: key,
  };
}

export function podIdentityOperations(e: EksContext) {
  const { deps } = e;
  const get = (ctx: RequestContext, cluster: string, id: string) => {
    getCluster(e, ctx, cluster);
    const d = deps.state.get<any>(childKey(scopeOf(ctx), 'podid', cluster, id));
    if (!d) throw notFound(`Association ${id} not found in cluster ${cluster}`, { clusterName: cluster });
    return d;
  };
  const summary = (d: any) => ({ clusterName: d.clusterName, namespace: d.namespace, serviceAccount: d.serviceAccount, associationArn: d.associationArn, associationId: d.associationId, ownerArn: d.ownerArn });
  return {
    CreatePodIdentityAssociation: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.namespace}:${input.serviceAccount}`, input.clientRequestToken, async () => {
        const f = { clusterName: input.clusterName };
        getCluster(e, ctx, input.clusterName);
        validateTags(input.tags);
        const existing = deps.state.list<any>(childPrefix(scopeOf(ctx), 'podid', input.clusterName)).find((p) => p.namespace === input.namespace && p.serviceAccount === input.serviceAccount);
        if (existing) throw inUse(`Association already exists: ${existing.associationArn}`, f);
        await checkRole(e, input.roleArn, f);
        if (input.targetRoleArn) await checkRole(e, input.targetRoleArn, f);
        if (input.policy) {
          try {
            JSON.parse(input.policy);
          } catch {
            throw invalidParameter('The session policy is not valid JSON', f);
          }
        }
        const doc = podIdentityDoc(scopeOf(ctx), input.clusterName, iso(ctx), input);
        await deps.state.commit([{ op: 'create', key: doc._key, doc }]);
        return { association: doc };
      }),

    DescribePodIdentityAssociation: (input: any, ctx: RequestContext) => ({ association: out(get(ctx, input.clusterName, input.associationId)) }),

    ListPodIdentityAssociations: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      let list = deps.state.list<any>(childPrefix(scopeOf(ctx), 'podid', input.clusterName));
      if (input.namespace) list = list.filter((p) => p.namespace === input.namespace);
      if (input.serviceAccount) list = list.filter((p) => p.serviceAccount === input.serviceAccount);
      const { page, nextToken } = paginate(list, (p) => p.associationId, input.maxResults, input.nextToken);
      return { associations: page.map(summary), nextToken };
    },

    UpdatePodIdentityAssociation: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.associationId}`, input.clientRequestToken, async () => {
        const cur = get(ctx, input.clusterName, input.associationId);
        const f = { clusterName: input.clusterName };
        if (cur.ownerArn) throw invalidParameter(`Association ${input.associationId} is owned by ${cur.ownerArn} and can only be changed through it`, f);
        if (input.roleArn) await checkRole(e, input.roleArn, f);
        if (input.targetRoleArn) await checkRole(e, input.targetRoleArn, f);
        const next = await deps.state.mutate<any>(cur._key, (d) => {
          if (!d) return d;
          if (input.roleArn !== undefined) d.roleArn = input.roleArn;
          if (input.disableSessionTags !== undefined) d.disableSessionTags = input.disableSessionTags;
          if (input.policy !== undefined) d.policy = input.policy || undefined;
          if (input.targetRoleArn !== undefined) {
            d.targetRoleArn = input.targetRoleArn || undefined;
            d.externalId = input.targetRoleArn ? (d.externalId ?? uuid()) : undefined;
          }
          d.modifiedAt = iso(ctx);
          return d;
        });
        return { association: next };
      }),

    DeletePodIdentityAssociation: async (input: any, ctx: RequestContext) => {
      const cur = get(ctx, input.clusterName, input.associationId);
      if (cur.ownerArn) throw invalidParameter(`Association ${input.associationId} is owned by ${cur.ownerArn} and can only be deleted through it`, { clusterName: input.clusterName });
      await deps.state.commit([{ op: 'delete', key: cur._key }]);
      return { association: out(cur) };
    },
  };
}
