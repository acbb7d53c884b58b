/**
 * Fargate profiles: CreateFargateProfile, DescribeFargateProfile,
 * ListFargateProfiles, DeleteFargateProfile. Profiles take private subnets
 * only (no route to an internet gateway), need a pod execution role, and
 * one profile per cluster may be deleting at a time.
 */
import type { RequestContext } from '../core/types.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, iso, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { nodeAccessEntryOps } from './access.ts';
import { checkRole, checkSubnets, getCluster, requireActiveCluster } from './clusters.ts';

function fpFields(cluster: string, name: string) {
  return { clusterName: cluster, fargateProfileName: name };
}

export function fargateOperations(e: EksContext) {
  const { deps } = e;
  e.lc.register('fargate', (key, doc, tx) => {
    if (tx.op === 'delete') return [{ op: 'delete', key }];
    const next = { ...doc, status: 'ACTIVE' };
    delete next._tx;
    return [{ op: 'put', key, doc: next }];
  });
  const get = (ctx: RequestContext, cluster: string, name: string) => {
    getCluster(e, ctx, cluster);
    const d = deps.state.get<any>(childKey(scopeOf(ctx), 'fargate', cluster, name));
    if (!d) throw notFound(`No Fargate Profile found with name: ${name}.`, fpFields(cluster, name));
    return d;
  };
  return {
    CreateFargateProfile: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.fargateProfileName}`, input.clientRequestToken, async () => {
        const scope = scopeOf(ctx);
        const cname: string = input.clusterName;
        const name: string = input.fargateProfileName;
        const f = fpFields(cname, name);
        const c = getCluster(e, ctx, cname);
        const key = childKey(scope, 'fargate', cname, name);
        if (deps.state.get(key)) throw inUse('A Fargate Profile already exists with this name in this cluster.', { clusterName: cname });
        requireActiveCluster(e, ctx, cname);
        validateTags(input.tags);
        const selectors: any[] = input.selectors ?? [];
        if (selectors.length === 0) throw invalidParameter('Fargate Profile requires at least one selector.', f);
        if (selectors.length > 5) throw invalidParameter('Fargate Profile cannot have more than 5 selectors.', f);
        for (const s of selectors) {
          if (!s.namespace) throw invalidParameter('Fargate Profile must have at least one selector with at least one namespace value.', f);
          if (Object.keys(s.labels ?? {}).length > 5) throw invalidParameter('Request contains Selector with more than 5 Label pairs', f);
        }
        await checkRole(e, input.podExecutionRoleArn, f);
        let subnets: string[] = input.subnets ?? [];
        if (subnets.length === 0) {
          // EKS uses the cluster's private subnets when none are given.
          subnets = [];
          for (const s of c.resourcesVpcConfig?.subnetIds ?? []) if (!(await e.refs.isPublicSubnet(scope, s))) subnets.push(s);
          if (subnets.length === 0 && e.refs.checks) throw invalidParameter('No private subnets were found in the cluster VPC configuration; specify private subnets for the Fargate Profile.', f);
        } else {
          const { vpcId } = await checkSubnets(e, ctx, subnets, f, false);
          if (vpcId && c.resourcesVpcConfig?.vpcId && vpcId !== c.resourcesVpcConfig.vpcId) throw invalidParameter('Subnets must belong to the same VPC as the cluster', f);
          if (e.refs.checks) {
            for (const s of subnets) {
              if (await e.refs.isPublicSubnet(scope, s)) throw invalidParameter(`Subnet ${s} provided in Fargate Profile is not a private subnet`, f);
            }
          }
        }
        const tx = e.lc.newTx('fargate', 'create');
        const doc: any = {
          fargateProfileName: name,
          fargateProfileArn: arn(scope, `fargateprofile/${cname}/${name}/${uuid()}`),
          clusterName: cname,
          createdAt: iso(ctx),
          podExecutionRoleArn: input.podExecutionRoleArn,
          subnets,
          selectors: selectors.map((s) => ({ namespace: s.namespace, labels: s.labels ?? {} })),
          status: 'CREATING',
          tags: input.tags ?? {},
          health: { issues: [] },
          _key: key,
          _tx: tx,
        };
        try {
          await deps.state.commit([{ op: 'create', key, doc }, ...nodeAccessEntryOps(e, ctx, c, input.podExecutionRoleArn, 'FARGATE_LINUX')]);
        } catch {
          throw inUse('A Fargate Profile already exists with this name in this cluster.', { clusterName: cname });
        }
        await e.lc.begin(key, tx);
        return { fargateProfile: deps.state.get(key) ?? doc };
      }),

    DescribeFargateProfile: (input: any, ctx: RequestContext) => ({ fargateProfile: out(get(ctx, input.clusterName, input.fargateProfileName)) }),

    ListFargateProfiles: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      const names = deps.state.list<any>(childPrefix(scopeOf(ctx), 'fargate', input.clusterName)).map((p) => p.fargateProfileName as string);
      const { page, nextToken } = paginate(names, (n) => n, input.maxResults, input.nextToken);
      return { fargateProfileNames: page, nextToken };
    },

    DeleteFargateProfile: async (input: any, ctx: RequestContext) => {
      const fp = get(ctx, input.clusterName, input.fargateProfileName);
      if (fp.status === 'DELETING') return { fargateProfile: out(fp) };
      const other = deps.state.list<any>(childPrefix(scopeOf(ctx), 'fargate', input.clusterName)).find((p) => p.status === 'DELETING');
      if (other) {
        throw inUse(`Cannot delete Fargate Profile ${input.fargateProfileName} because Fargate Profile ${other.fargateProfileName} is currently being deleted. Only one Fargate Profile can be deleted at a time.`, { clusterName: input.clusterName });
      }
      const tx = e.lc.newTx('fargate', 'delete');
      const next = { ...fp, status: 'DELETING', _tx: tx };
      await deps.state.commit([{ op: 'put', key: fp._key, doc: next }]);
      await e.lc.begin(fp._key, tx);
      return { fargateProfile: out(next) };
    },
  };
}
