/**
 * OIDC identity provider configs: AssociateIdentityProviderConfig,
 * DisassociateIdentityProviderConfig, DescribeIdentityProviderConfig,
 * ListIdentityProviderConfigs. Associating and disassociating are cluster
 * updates (Update records of type AssociateIdentityProviderConfig /
 * DisassociateIdentityProviderConfig); the config is CREATING / DELETING
 * until the update completes.
 */
import type { StateOp } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, invalidRequest, iso, limitExceeded, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { getCluster } from './clusters.ts';
import { startUpdate } from './updates.ts';

export function identityProviderOperations(e: EksContext) {
  const { deps } = e;
  const get = (ctx: RequestContext, cluster: string, ref: any) => {
    getCluster(e, ctx, cluster);
    if (ref?.type !== 'oidc') throw invalidParameter(`Identity provider config type ${ref?.type} is not supported`, { clusterName: cluster });
    const d = deps.state.get<any>(childKey(scopeOf(ctx), 'idp', cluster, ref.name));
    if (!d) throw notFound(`No identity provider config found with name: ${ref.name}.`, { clusterName: cluster });
    return d;
  };
  return {
    AssociateIdentityProviderConfig: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.clusterName, input.clientRequestToken, async () => {
        const c = getCluster(e, ctx, input.clusterName);
        const f = { clusterName: input.clusterName };
        if (c.status !== 'ACTIVE') throw invalidRequest(`Cluster '${input.clusterName}' is not in ACTIVE status`, f);
        const o = input.oidc;
        validateTags(input.tags);
        if (!/^https:\/\//.test(o.issuerUrl)) throw invalidParameter('The issuerUrl must be a valid URL beginning with https://', f);
        const key = childKey(scopeOf(ctx), 'idp', input.clusterName, o.identityProviderConfigName);
        if (deps.state.get(key)) throw inUse(`Identity provider config ${o.identityProviderConfigName} already exists`, f);
        if (deps.state.list(childPrefix(scopeOf(ctx), 'idp', input.clusterName)).length >= 1) {
          throw limitExceeded('A cluster can have at most 1 identity provider config associated', f);
        }
        for (const p of [o.usernamePrefix, o.groupsPrefix]) if (p && p.startsWith('system:')) throw invalidParameter('The prefix cannot start with system:', f);
        const doc: any = {
          identityProviderConfigName: o.identityProviderConfigName,
          identityProviderConfigArn: arn(scopeOf(ctx), `identityproviderconfig/${input.clusterName}/oidc/${o.identityProviderConfigName}/${uuid()}`),
          clusterName: input.clusterName,
          issuerUrl: o.issuerUrl,
          clientId: o.clientId,
          usernameClaim: o.usernameClaim,
          usernamePrefix: o.usernamePrefix,
          groupsClaim: o.groupsClaim,
          groupsPrefix: o.groupsPrefix,
          requiredClaims: o.requiredClaims ?? {},
          tags: input.tags ?? {},
          status: 'CREATING',
          _key: key,
          _createdAt: iso(ctx),
        };
        await deps.state.commit([{ op: 'create', key, doc }]);
        try {
          const update = await startUpdate(e, ctx, {
            cluster: input.clusterName,
            target: { kind: 'cluster', name: input.clusterName },
            resourceKey: c._key,
            kind: 'idp',
            type: 'AssociateIdentityProviderConfig',
            params: [{ type: 'IdentityProviderConfig', value: JSON.stringify([{ type: 'oidc', name: o.identityProviderConfigName }]) }],
            patch: { _idp: { name: o.identityProviderConfigName, action: 'associate' } },
          });
          return { update, tags: doc.tags };
        } catch (err) {
          await deps.state.commit([{ op: 'delete', key }]);
          throw err;
        }
      }),

    DisassociateIdentityProviderConfig: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.clusterName, input.clientRequestToken, async () => {
        const d = get(ctx, input.clusterName, input.identityProviderConfig);
        const c = getCluster(e, ctx, input.clusterName);
        const f = { clusterName: input.clusterName };
        if (d.status !== 'ACTIVE') throw inUse(`Identity provider config ${d.identityProviderConfigName} is ${d.status}`, f);
        const update = await startUpdate(e, ctx, {
          cluster: input.clusterName,
          target: { kind: 'cluster', name: input.clusterName },
          resourceKey: c._key,
          kind: 'idp',
          type: 'DisassociateIdentityProviderConfig',
          params: [{ type: 'IdentityProviderConfig', value: JSON.stringify([{ type: 'oidc', name: d.identityProviderConfigName }]) }],
          patch: { _idp: { name: d.identityProviderConfigName, action: 'disassociate' } },
        });
        await deps.state.mutate<any>(d._key, (x) => (x ? { ...x, status: 'DELETING' } : x));
        return { update };
      }),

    DescribeIdentityProviderConfig: (input: any, ctx: RequestContext) => ({ identityProviderConfig: { oidc: out(get(ctx, input.clusterName, input.identityProviderConfig)) } }),

    ListIdentityProviderConfigs: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      const list = deps.state.list<any>(childPrefix(scopeOf(ctx), 'idp', input.clusterName)).map((d) => ({ type: 'oidc', name: d.identityProviderConfigName as string }));
      const { page, nextToken } = paginate(list, (x) => x.name, input.maxResults, input.nextToken);
      return { identityProviderConfigs: page, nextToken };
    },
  };
}

/** idpOps: the writes that settle an identity provider config when its cluster update completes. */
export function idpCompletionOps(e: EksContext, clusterKey: string, clusterName: string, idp: { name: string; action: string }, failed: boolean): StateOp[] {
  const [, , , accountId, region] = clusterKey.split('/');
  const key = childKey({ accountId: accountId!, region: region! }, 'idp', clusterName, idp.name);
  const d = e.deps.state.get<any>(key);
  if (!d) return [];
  if (idp.action === 'associate') return failed ? [{ op: 'delete', key }] : [{ op: 'put', key, doc: { ...d, status: 'ACTIVE' } }];
  return failed ? [{ op: 'put', key, doc: { ...d, status: 'ACTIVE' } }] : [{ op: 'delete', key }];
}
