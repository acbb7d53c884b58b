/**
 * EKS capabilities (managed Argo CD, ACK, kro): CreateCapability,
 * DescribeCapability, ListCapabilities, UpdateCapability,
 * DeleteCapability, with a CREATING -> ACTIVE lifecycle and Update
 * records for updates.
 */
import type { RequestContext } from '../core/types.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, iso, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { checkRole, getCluster, requireActiveCluster } from './clusters.ts';
import { finishUpdateOps, startUpdate } from './updates.ts';

const VERSIONS: Record<string, string> = { ARGOCD: 'v3.1.8-eks-1', ACK: 'v1.0.0', KRO: 'v0.4.1' };

export function capabilityOperations(e: EksContext) {
  const { deps } = e;
  e.lc.register('capability', (key, doc, tx) => {
    if (tx.op === 'delete') return [{ op: 'delete', key }];
    if (tx.op === 'update') return finishUpdateOps(e, key, doc, tx);
    const next = { ...doc, status: 'ACTIVE', modifiedAt: deps.clock.now().toISOString() };
    delete next._tx;
    return [{ op: 'put', key, doc: next }];
  });
  const get = (ctx: RequestContext, cluster: string, name: string) => {
    getCluster(e, ctx, cluster);
    const d = deps.state.get<any>(childKey(scopeOf(ctx), 'capability', cluster, name));
    if (!d) throw notFound(`No capability found for name: ${name}.`, { clusterName: cluster });
    return d;
  };
  return {
    CreateCapability: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.capabilityName}`, input.clientRequestToken, async () => {
        const f = { clusterName: input.clusterName };
        requireActiveCluster(e, ctx, input.clusterName);
        validateTags(input.tags);
        const key = childKey(scopeOf(ctx), 'capability', input.clusterName, input.capabilityName);
        if (deps.state.get(key)) throw inUse(`Capability already exists with name: ${input.capabilityName}`, f);
        if (deps.state.list<any>(childPrefix(scopeOf(ctx), 'capability', input.clusterName)).some((c) => c.type === input.type)) {
          throw inUse(`A capability of type ${input.type} already exists on cluster ${input.clusterName}`, f);
        }
        if (input.type === 'ARGOCD' && !input.configuration?.argoCd?.awsIdc) throw invalidParameter('configuration.argoCd.awsIdc is required for capabilities of type ARGOCD', f);
        await checkRole(e, input.roleArn, f);
        const now = iso(ctx);
        const tx = e.lc.newTx('capability', 'create');
        const argo = input.configuration?.argoCd;
        const doc: any = {
          capabilityName: input.capabilityName,
          arn: arn(scopeOf(ctx), `capability/${input.clusterName}/${input.capabilityName}/${uuid()}`),
          clusterName: input.clusterName,
          type: input.type,
          roleArn: input.roleArn,
          status: 'CREATING',
          version: VERSIONS[input.type] ?? 'v1.0.0',
          configuration: argo
            ? { argoCd: { ...argo, namespace: argo.namespace ?? 'argocd', serverUrl: `https://${uuid().slice(0, 8)}.argocd.eks.${ctx.region}.amazonaws.com` } }
            : undefined,
          tags: input.tags ?? {},
          health: { issues: [] },
          createdAt: now,
          modifiedAt: now,
          deletePropagationPolicy: input.deletePropagationPolicy,
          _key: key,
          _tx: tx,
        };
        await deps.state.commit([{ op: 'create', key, doc }]);
        await e.lc.begin(key, tx);
        return { capability: deps.state.get(key) ?? doc };
      }),
    DescribeCapability: (input: any, ctx: RequestContext) => ({ capability: out(get(ctx, input.clusterName, input.capabilityName)) }),
    ListCapabilities: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      const list = deps.state.list<any>(childPrefix(scopeOf(ctx), 'capability', input.clusterName));
      const { page, nextToken } = paginate(list, (c) => c.capabilityName, input.maxResults, input.nextToken);
      return {
        capabilities: page.map((c) => out({ capabilityName: c.capabilityName, arn: c.arn, type: c.type, status: c.status, version: c.version, createdAt: c.createdAt, modifiedAt: c.modifiedAt })),
        nextToken,
      };
    },
    UpdateCapability: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.capabilityName}`, input.clientRequestToken, async () => {
        const c = get(ctx, input.clusterName, input.capabilityName);
        const f = { clusterName: input.clusterName };
        const patch: Record<string, unknown> = {};
        const params: { type: string; value: string }[] = [];
        if (input.roleArn) {
          await checkRole(e, input.roleArn, f);
          patch.roleArn = input.roleArn;
        }
        if (input.configuration?.argoCd) {
          const cur = c.configuration?.argoCd ?? {};
          const u = input.configuration.argoCd;
          let mappings = cur.rbacRoleMappings ?? [];
          if (u.rbacRoleMappings?.removeRoleMappings) mappings = mappings.filter((m: any) => !u.rbacRoleMappings.removeRoleMappings.some((r: any) => r.role === m.role));
          if (u.rbacRoleMappings?.addOrUpdateRoleMappings) mappings = [...mappings.filter((m: any) => !u.rbacRoleMappings.addOrUpdateRoleMappings.some((r: any) => r.role === m.role)), ...u.rbacRoleMappings.addOrUpdateRoleMappings];
          patch.configuration = { argoCd: { ...cur, rbacRoleMappings: mappings, networkAccess: u.networkAccess ?? cur.networkAccess } };
        }
        if (input.deletePropagationPolicy) patch.deletePropagationPolicy = input.deletePropagationPolicy;
        if (Object.keys(patch).length === 0) throw invalidParameter('No update parameters were provided', f);
        const update = await startUpdate(e, ctx, { cluster: input.clusterName, target: { kind: 'capability', name: input.capabilityName }, resourceKey: c._key, kind: 'capability', type: 'ConfigUpdate', params, patch });
        return { update };
      }),
    DeleteCapability: async (input: any, ctx: RequestContext) => {
      const c = get(ctx, input.clusterName, input.capabilityName);
      if (c.status === 'DELETING') return { capability: out(c) };
      if (c.status === 'CREATING' || c.status === 'UPDATING') throw inUse(`Capability ${input.capabilityName} is currently ${c.status}`, { clusterName: input.clusterName });
      const tx = e.lc.newTx('capability', 'delete');
      const next = { ...c, status: 'DELETING', _tx: tx };
      await deps.state.commit([{ op: 'put', key: c._key, doc: next }]);
      await e.lc.begin(c._key, tx);
      return { capability: out(next) };
    },
  };
}
