/**
 * The EKS add-on manager on the cluster side, as a workload controller of
 * the data plane loop: what CreateAddon, UpdateAddon and DeleteAddon
 * (src/aws/eks/addons.ts) ask of the cluster's Kubernetes objects, and the
 * add-on's health.
 *
 * - An add-on (vpc-cni, kube-proxy, coredns) whose version or
 *   configurationValues differ from what was last applied gets its manifest
 *   (src/sim/addons/manifests.ts) written into kube-system: missing objects
 *   are created, existing ones (the self-managed defaults, or a previous
 *   version) are merged per resolveConflicts (reconcile.ts): OVERWRITE
 *   writes over them, NONE fails on conflicting fields, PRESERVE (updates)
 *   keeps them. A conflict while CREATING makes the creation fail
 *   (CREATE_FAILED, ConfigurationConflict); a conflict of a pending
 *   UpdateAddon makes the update fail when it completes (the add-on keeps its
 *   version). A change seen only after the lifecycle applied it (the
 *   `instant` profile) reports ConfigurationConflict as a health issue.
 * - DeleteAddon without preserve leaves a removal record; its objects are
 *   deleted here (preserve keeps them, self-managed from then on).
 * - Health: an ACTIVE or DEGRADED add-on whose DaemonSet or Deployment has
 *   had fewer available pods than desired for HEALTH_GRACE_MS is DEGRADED
 *   with the InsufficientNumberOfReplicas issue; ACTIVE again once they run.
 */
import { addonRemovalPrefix } from '../../aws/eks/addon-catalogue.ts';
import { listAddons, scopeOfCluster } from '../../aws/eks/shared.ts';
import type { KObject } from '../../kube/api/types.ts';
import { isStatusError } from '../../kube/apiserver/errors.ts';
import type { ControllerContext, WorkloadController } from '../controllers/workload-controllers.ts';
import { ADDON_WORKLOADS, type AddonClusterFacts, type AddonObject, addonObjects } from './manifests.ts';
import { conflictMessage, conflictPaths, kindRef, mergeManifest } from './reconcile.ts';

const MANAGER = { fieldManager: 'eks' };

/** The health issue of an add-on whose pods do not all run. */
export const INSUFFICIENT_REPLICAS = { code: 'InsufficientNumberOfReplicas', message: "The add-on is unhealthy because it doesn't have the desired number of replicas." };

/**
 * How long (simulated) an add-on's pods may be short before it reports
 * DEGRADED: EKS checks add-on health periodically, not on every pod change,
 * so a rollout in progress does not flap the add-on's status.
 */
export const HEALTH_GRACE_MS = 30_000;

const sig = (version: string, config: string | undefined) => `${version}|${config ?? ''}`;

function facts(ctx: ControllerContext): AddonClusterFacts {
  return { name: ctx.info.name, region: ctx.info.region, serviceIpv4Cidr: ctx.info.serviceIpv4Cidr };
}

function current(ctx: ControllerContext, o: AddonObject): KObject | undefined {
  const res = ctx.reg.scheme.preferred(o.group, o.resource);
  if (!res) return undefined;
  return ctx.reg.cache.get(ctx.reg.keyFor(res, o.namespace, o.obj.metadata!.name!))?.obj;
}

/** Conflicts of writing `want` over the cluster, given what was applied last (`prev`, undefined at creation). */
function findConflicts(ctx: ControllerContext, want: AddonObject[], prev: AddonObject[] | undefined): Array<{ ref: string; path: string; obj: AddonObject }> {
  const out: Array<{ ref: string; path: string; obj: AddonObject }> = [];
  for (const o of want) {
    const cur = current(ctx, o);
    if (!cur) continue;
    const p = prev?.find((x) => x.resource === o.resource && x.obj.metadata!.name === o.obj.metadata!.name)?.obj;
    for (const path of conflictPaths(o.obj, cur, prev ? (p ?? {}) : undefined)) out.push({ ref: kindRef(o.group, o.obj), path, obj: o });
  }
  return out;
}

async function write(ctx: ControllerContext, want: AddonObject[], keep: Array<{ path: string; obj: AddonObject }>, prev: AddonObject[] | undefined): Promise<void> {
  for (const o of want) {
    const res = ctx.reg.scheme.preferred(o.group, o.resource);
    if (!res) continue;
    const name = o.obj.metadata!.name!;
    const keepHere = keep.filter((k) => k.obj === o).map((k) => k.path);
    await ctx.reg.guaranteedUpdate(res, o.namespace, name, (cur) => {
      if (!cur) return structuredClone(o.obj);
      const before = prev?.find((x) => x.resource === o.resource && x.obj.metadata!.name === name)?.obj;
      const next = mergeManifest(cur, o.obj, keepHere, before);
      next.metadata!.resourceVersion = '';
      return next;
    }, { ...MANAGER, createIfMissing: true });
  }
}

async function remove(ctx: ControllerContext, objs: AddonObject[]): Promise<void> {
  for (const o of objs) {
    // CRDs stay: deleting one would delete every custom resource of its kind (ENIConfigs).
    if (o.resource === 'customresourcedefinitions') continue;
    const res = ctx.reg.scheme.preferred(o.group, o.resource);
    if (!res) continue;
    try {
      await ctx.reg.delete(res, o.namespace, o.obj.metadata!.name!, { propagationPolicy: 'Background' });
    } catch (e) {
      if (!isStatusError(e, 'NotFound')) throw e;
    }
  }
}

/** Whether the add-on's workload runs all its pods; undefined when it has none to judge. */
function workloadHealthy(ctx: ControllerContext, addonName: string): boolean | undefined {
  const w = ADDON_WORKLOADS[addonName];
  if (!w) return undefined;
  const res = ctx.reg.scheme.preferred(w.group, w.resource);
  if (!res) return undefined;
  const o = ctx.reg.cache.get(ctx.reg.keyFor(res, 'kube-system', w.name))?.obj;
  if (!o) return false;
  if (w.resource === 'daemonsets') return (o.status?.numberAvailable ?? 0) >= (o.status?.desiredNumberScheduled ?? 0);
  return (o.status?.availableReplicas ?? 0) >= (o.spec?.replicas ?? 1);
}

type Issue = { code: string; message: string; resourceIds?: string[] };

async function setDoc(ctx: ControllerContext, key: string, fn: (d: any) => void): Promise<void> {
  await ctx.deps.state.mutate<any>(key, (d) => {
    if (!d) return undefined;
    fn(d);
    return d;
  });
}

/** syncAddons runs one reconcile of the EKS add-ons of the cluster. */
export async function syncAddons(ctx: ControllerContext): Promise<void> {
  const scope = scopeOfCluster(ctx.info);
  // Removals first (DeleteAddon without preserve).
  for (const r of ctx.deps.state.list<any>(addonRemovalPrefix(scope, ctx.info.name))) {
    try {
      if (r.clusterUid === ctx.info.uid) await remove(ctx, addonObjects(r.addonName, r.addonVersion, facts(ctx), r.configurationValues));
      await ctx.deps.state.commit([{ op: 'delete', key: r._key }]);
    } catch (err) {
      ctx.log.warn({ err, addon: r.addonName }, 'add-on objects not removed');
    }
  }
  for (const a of listAddons(ctx.deps.state, ctx.info)) {
    if (!ADDON_WORKLOADS[a.addonName]) continue;
    if (a.status === 'DELETING' || a.status === 'CREATE_FAILED' || a.status === 'DELETE_FAILED') continue;
    try {
      await syncOne(ctx, a);
    } catch (err) {
      ctx.log.warn({ err, addon: a.addonName }, 'add-on sync failed');
    }
  }
}

async function syncOne(ctx: ControllerContext, a: any): Promise<void> {
  const tx = a._tx;
  const pending = tx?.op === 'update' && tx.patch && ('addonVersion' in tx.patch || 'configurationValues' in tx.patch) ? tx.patch : undefined;
  const version: string = pending && 'addonVersion' in pending ? pending.addonVersion : a.addonVersion;
  const config: string | undefined = pending && 'configurationValues' in pending ? pending.configurationValues : a.configurationValues;
  const mode: string = (pending?._resolveConflicts ?? tx?.patch?._resolveConflicts ?? a._resolveConflicts ?? 'NONE') as string;
  const want = sig(version, config);
  if (a._applied !== want && !(pending && a._txConflict?.txId === tx.id)) {
    const desired = addonObjects(a.addonName, version, facts(ctx), config);
    const prev = a._applied ? addonObjects(a.addonName, a._appliedVersion, facts(ctx), a._appliedConfig) : undefined;
    const conflicts = mode === 'OVERWRITE' ? [] : findConflicts(ctx, desired, prev);
    const creating = !a._applied;
    const blocked = conflicts.length > 0 && (mode === 'NONE' || creating);
    if (blocked) {
      const message = conflictMessage(conflicts);
      const issue: Issue = { code: 'ConfigurationConflict', message, resourceIds: [...new Set(conflicts.map((c) => c.ref))] };
      await setDoc(ctx, a._key, (d) => {
        if (creating && d.status === 'CREATING') d._conflict = [issue];
        else if (creating) {
          d.status = 'CREATE_FAILED';
          d.health = { issues: [issue] };
        } else if (pending && d._tx?.id === tx.id) d._txConflict = { txId: tx.id, message };
        else {
          d.status = 'DEGRADED';
          d.health = { issues: [...(d.health?.issues ?? []).filter((i: Issue) => i.code !== 'ConfigurationConflict'), issue] };
        }
      });
      ctx.log.info({ cluster: ctx.info.name, addon: a.addonName, conflicts: conflicts.length }, 'add-on not applied: conflicts');
      return;
    }
    await write(ctx, desired, mode === 'PRESERVE' ? conflicts : [], prev);
    await setDoc(ctx, a._key, (d) => {
      d._applied = want;
      d._appliedVersion = version;
      d._appliedConfig = config;
      delete d._conflict;
      if (d.health?.issues) d.health.issues = d.health.issues.filter((i: Issue) => i.code !== 'ConfigurationConflict');
    });
    ctx.log.info({ cluster: ctx.info.name, addon: a.addonName, version }, 'add-on applied');
    return;
  }
  // Health, once the add-on rests.
  if (a.status !== 'ACTIVE' && a.status !== 'DEGRADED') return;
  const healthy = workloadHealthy(ctx, a.addonName);
  if (healthy === undefined) return;
  const others: Issue[] = (a.health?.issues ?? []).filter((i: Issue) => i.code !== INSUFFICIENT_REPLICAS.code);
  const w = ADDON_WORKLOADS[a.addonName]!;
  const wasDegraded = (a.health?.issues ?? []).some((i: Issue) => i.code === INSUFFICIENT_REPLICAS.code);
  let since: number | undefined = a._unhealthySince;
  if (healthy) since = undefined;
  else if (since === undefined) since = ctx.nowMs;
  const short = !healthy && (wasDegraded || ctx.nowMs - since! >= HEALTH_GRACE_MS);
  if (!healthy && !short) ctx.wake(since! + HEALTH_GRACE_MS);
  const issues = short ? [...others, { ...INSUFFICIENT_REPLICAS, resourceIds: [w.name] }] : others;
  const status = issues.length ? 'DEGRADED' : 'ACTIVE';
  if (status === a.status && JSON.stringify(issues) === JSON.stringify(a.health?.issues ?? []) && since === a._unhealthySince) return;
  await setDoc(ctx, a._key, (d) => {
    if (d.status !== 'ACTIVE' && d.status !== 'DEGRADED') return;
    d.status = status;
    d.health = { issues };
    if (since === undefined) delete d._unhealthySince;
    else d._unhealthySince = since;
  });
}

/** The add-on controller, as the data plane loop runs it (the 1 s tick sees EKS add-on changes). */
export const addonController: WorkloadController = {
  name: 'eks-addons',
  resources: ['apps/daemonsets', 'apps/deployments'],
  sync: syncAddons,
};
