/**
 * Cluster insights, computed from stored state (not canned):
 * ListInsights, DescribeInsight, StartInsightsRefresh,
 * DescribeInsightsRefresh, and the upgrade blockers UpdateClusterVersion
 * checks.
 *
 * UPGRADE_READINESS insights look at the next Kubernetes minor version:
 * - kubelet version skew: node groups more than 3 minors behind the next
 *   version are ERROR, behind the control plane WARNING;
 * - EKS add-on version compatibility: add-ons whose installed version does
 *   not support the next version are ERROR (add-ons are not upgraded with
 *   the control plane);
 * - cluster health issues.
 * MISCONFIGURATION insights: add-ons in DEGRADED state.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../core/types.ts';
import { addonDef, compatibleVersions, isCompatible } from './addon-catalogue.ts';
import { childKey, childPrefix, type EksContext, invalidParameter, notFound, out, paginate, scopeOf } from './common.ts';
import { getCluster, healthIssues } from './clusters.ts';
import { minorOf, nextMinor } from './versions.ts';

interface InsightDoc {
  id: string;
  name: string;
  category: 'UPGRADE_READINESS' | 'MISCONFIGURATION';
  kubernetesVersion?: string;
  lastRefreshTime: string;
  lastTransitionTime: string;
  description: string;
  insightStatus: { status: 'PASSING' | 'WARNING' | 'ERROR' | 'UNKNOWN'; reason: string };
  recommendation: string;
  additionalInfo: Record<string, string>;
  resources: { insightStatus: { status: string; reason: string }; arn?: string; kubernetesResourceUri?: string }[];
  categorySpecificSummary: { deprecationDetails?: any[]; addonCompatibilityDetails?: any[] };
}

function stableId(uid: string, name: string): string {
  const h = createHash('sha256').update(`${uid}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** computeInsights evaluates every insight of a cluster, for the version after `fromVersion`. */
export function computeInsights(e: EksContext, ctx: Pick<RequestContext, 'accountId' | 'region'>, cluster: any, targetVersion?: string, liveHealth: any[] = []): InsightDoc[] {
  const scope = scopeOf(ctx);
  const target = targetVersion ?? nextMinor(cluster.version) ?? cluster.version;
  const refreshed = e.deps.state.get<any>(childKey(scope, 'insights', cluster.name, 'state'));
  const when: string = refreshed?.endedAt ?? cluster.createdAt;
  const mk = (name: string, category: InsightDoc['category'], description: string, recommendation: string, resources: InsightDoc['resources'], extra: Partial<InsightDoc> = {}): InsightDoc => {
    const worst = resources.some((r) => r.insightStatus.status === 'ERROR') ? 'ERROR' : resources.some((r) => r.insightStatus.status === 'WARNING') ? 'WARNING' : 'PASSING';
    const reason = worst === 'PASSING' ? 'No issues found.' : resources.filter((r) => r.insightStatus.status === worst).map((r) => r.insightStatus.reason).join(' ');
    return {
      id: stableId(cluster._uid ?? cluster.name, `${name}/${category}`),
      name,
      category,
      kubernetesVersion: category === 'UPGRADE_READINESS' ? target : undefined,
      lastRefreshTime: when,
      lastTransitionTime: when,
      description,
      insightStatus: { status: worst, reason },
      recommendation,
      additionalInfo: {},
      resources: resources.filter((r) => r.insightStatus.status !== 'PASSING'),
      categorySpecificSummary: {},
      ...extra,
    };
  };
  const ngs = e.deps.state.list<any>(childPrefix(scope, 'nodegroup', cluster.name));
  const skew = ngs.map((ng) => {
    const behindTarget = minorOf(target) - minorOf(ng.version);
    const behindCp = minorOf(cluster.version) - minorOf(ng.version);
    const status = behindTarget > 3 ? 'ERROR' : behindCp > 0 ? 'WARNING' : 'PASSING';
    return {
      arn: ng.nodegroupArn,
      insightStatus: { status, reason: status === 'PASSING' ? '' : `Node group ${ng.nodegroupName} runs Kubernetes ${ng.version}; the control plane runs ${cluster.version}${status === 'ERROR' ? ` and ${target} would exceed the supported kubelet version skew of 3 minor versions` : ''}.` },
    };
  });
  const addons = e.deps.state.list<any>(childPrefix(scope, 'addon', cluster.name));
  const details: { name: string; compatibleVersions: string[] }[] = [];
  const addonRes = addons.map((a) => {
    const def = addonDef(a.addonName);
    const ok = !def || isCompatible(def, a.addonVersion, target);
    if (!ok && def) details.push({ name: a.addonName, compatibleVersions: compatibleVersions(def, target) });
    return {
      arn: a.addonArn,
      insightStatus: { status: ok ? 'PASSING' : 'ERROR', reason: ok ? '' : `Add-on ${a.addonName} version ${a.addonVersion} is not compatible with Kubernetes ${target}.` },
    };
  });
  const usage = e.deps.state.get<any>(childKey(scope, 'insights', cluster.name, 'api-usage'));
  const deprecated: any[] = (usage?.usages ?? []).filter((u: any) => minorOf(u.stopServingVersion) <= minorOf(target) && minorOf(u.stopServingVersion) > minorOf(cluster.version));
  const health = [...(cluster.health?.issues ?? []), ...liveHealth].map((i: any) => ({ insightStatus: { status: 'ERROR', reason: i.message } }));
  const degraded = addons.filter((a) => a.status === 'DEGRADED').map((a) => ({ arn: a.addonArn, insightStatus: { status: 'WARNING', reason: `Add-on ${a.addonName} is DEGRADED: ${(a.health?.issues ?? []).map((i: any) => i.message).join('; ')}` } }));
  return [
    mk('Kubelet version skew', 'UPGRADE_READINESS', 'Checks for kubelet versions of worker nodes in the cluster to see if upgrade would cause noncompliance with supported Kubernetes kubelet version skew policy.', 'Upgrade your worker nodes to match the Kubernetes version of your cluster control plane.', skew),
    mk('Amazon EKS add-on version compatibility', 'UPGRADE_READINESS', 'Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.', 'Upgrade your EKS add-on to a newer version that is supported by the next Kubernetes version.', addonRes, {
      categorySpecificSummary: { addonCompatibilityDetails: details },
    }),
    mk('Cluster health issues', 'UPGRADE_READINESS', 'Checks for any cluster health issues that prevent successful upgrade to the next Kubernetes version on EKS.', 'Refer to the cluster health issues and resolve them before upgrading.', health),
    mk(`Deprecated APIs removed in Kubernetes v${target}`, 'UPGRADE_READINESS', `Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v${target}.`, 'Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading.', deprecated.map((u) => ({
      kubernetesResourceUri: u.usage,
      insightStatus: { status: 'ERROR', reason: `${u.usage} is removed in Kubernetes v${u.stopServingVersion}${u.replacedWith ? `; use ${u.replacedWith}` : ''}.` },
    })), {
      categorySpecificSummary: {
        deprecationDetails: deprecated.map((u) => ({
          usage: u.usage,
          replacedWith: u.replacedWith,
          stopServingVersion: u.stopServingVersion,
          startServingReplacementVersion: u.startServingReplacementVersion,
          clientStats: u.clientStats.map((c: any) => ({ ...c })),
        })),
      },
    }),
    mk('Amazon EKS add-on health', 'MISCONFIGURATION', 'Checks the health of installed EKS add-ons.', 'Resolve the add-on health issues reported by DescribeAddon.', degraded),
  ];
}

/** upgradeBlockers: reasons of ERROR upgrade insights for an upgrade to `to`. */
export function upgradeBlockers(e: EksContext, ctx: Pick<RequestContext, 'accountId' | 'region'>, cluster: any, to: string, liveHealth: any[] = []): string[] {
  return computeInsights(e, ctx, cluster, to, liveHealth)
    .filter((i) => i.category === 'UPGRADE_READINESS' && i.insightStatus.status === 'ERROR')
    .map((i) => `${i.name}: ${i.insightStatus.reason}`);
}

export function insightOperations(e: EksContext) {
  const { deps } = e;
  e.lc.register('insights', (key, doc) => {
    const next = { ...doc, status: 'COMPLETED', endedAt: deps.clock.now().toISOString() };
    delete next._tx;
    return [{ op: 'put', key, doc: next }];
  });
  return {
    ListInsights: async (input: any, ctx: RequestContext) => {
      const c = getCluster(e, ctx, input.clusterName);
      let list = computeInsights(e, ctx, c, undefined, await healthIssues(e, ctx, c));
      const flt = input.filter ?? {};
      if (flt.categories?.length) list = list.filter((i) => flt.categories.includes(i.category));
      if (flt.kubernetesVersions?.length) list = list.filter((i) => i.kubernetesVersion && flt.kubernetesVersions.includes(i.kubernetesVersion));
      if (flt.statuses?.length) list = list.filter((i) => flt.statuses.includes(i.insightStatus.status));
      list.sort((a, b) => (a.id < b.id ? -1 : 1));
      const { page, nextToken } = paginate(list, (i) => i.id, input.maxResults, input.nextToken);
      return {
        insights: page.map((i) => out({ id: i.id, name: i.name, category: i.category, kubernetesVersion: i.kubernetesVersion, lastRefreshTime: i.lastRefreshTime, lastTransitionTime: i.lastTransitionTime, description: i.description, insightStatus: i.insightStatus })),
        nextToken,
      };
    },
    DescribeInsight: async (input: any, ctx: RequestContext) => {
      const c = getCluster(e, ctx, input.clusterName);
      const i = computeInsights(e, ctx, c, undefined, await healthIssues(e, ctx, c)).find((x) => x.id === input.id);
      if (!i) throw notFound(`No insight found with id: ${input.id}`, { clusterName: input.clusterName });
      return { insight: out(i) };
    },
    StartInsightsRefresh: async (input: any, ctx: RequestContext) => {
      const c = getCluster(e, ctx, input.clusterName);
      if (c.status !== 'ACTIVE' && c.status !== 'UPDATING') throw invalidParameter(`Cluster '${input.clusterName}' is not in ACTIVE status`, { clusterName: input.clusterName });
      const key = childKey(scopeOf(ctx), 'insights', input.clusterName, 'state');
      const cur = deps.state.get<any>(key);
      if (cur?.status === 'IN_PROGRESS') return { status: 'IN_PROGRESS', message: 'An insights refresh is already in progress.' };
      const tx = e.lc.newTx('insights', 'update');
      await deps.state.commit([{ op: 'put', key, doc: { status: 'IN_PROGRESS', startedAt: ctx.now().toISOString(), message: 'Insights refresh started.', _key: key, _tx: tx } }]);
      await e.lc.begin(key, tx);
      const now = deps.state.get<any>(key);
      return { status: now?.status ?? 'IN_PROGRESS', message: now?.status === 'COMPLETED' ? 'Insights refresh completed.' : 'Insights refresh started.' };
    },
    DescribeInsightsRefresh: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      const cur = deps.state.get<any>(childKey(scopeOf(ctx), 'insights', input.clusterName, 'state'));
      if (!cur) throw notFound(`No insights refresh found for cluster ${input.clusterName}.`, { clusterName: input.clusterName });
      return out({ status: cur.status, startedAt: cur.startedAt, endedAt: cur.endedAt, message: cur.status === 'COMPLETED' ? 'Insights refresh completed.' : cur.message });
    },
  };
}
