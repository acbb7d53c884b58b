/**
 * Managed node group updates as EKS performs them (the user guide's
 * "Understand each phase of node updates"): UpdateNodegroupVersion (a new
 * Kubernetes version / AMI release, or a new launch template version) does
 * the setup phase in the EKS provider — a new launch template version, the
 * Auto Scaling group switched to it — and stores what it did in the update's
 * transition (`_tx.patch._rollout`, see RolloutRecord). This controller does
 * the rest on the cluster's nodes, holding the node group UPDATING until done:
 *
 * - scale up (DEFAULT strategy): max and desired raised by the larger of
 *   twice the group's Availability Zones and maxUnavailable; it waits until
 *   every new instance's node is Ready with at least one in every zone that
 *   has old nodes, then cordons every old node and labels it
 *   node.kubernetes.io/exclude-from-external-load-balancers=true;
 * - upgrade: up to maxUnavailable old nodes at a time are drained through the
 *   Eviction API (PodDisruptionBudgets apply; DaemonSet and mirror pods stay),
 *   or with the update's force flag their pods are deleted; a node whose pods
 *   have not left within the eviction timeout (15 minutes on EKS) fails the
 *   update with PodEvictionFailure and the rollout is undone; an empty node
 *   waits the settle time (60 s on EKS), then its instance is terminated
 *   through the group without decrementing it, so the group launches a
 *   replacement from the new template; the MINIMAL strategy skips scale-up
 *   and cordons each node as it drains it;
 * - scale down: max and desired return to their values before the update;
 *   then the transition completes and the node group takes its new version.
 *
 * Old and new are told apart by the launch template version each instance of
 * the group was launched from. Timings per profile: ROLLOUT_TIMING.
 */
import { describeGroup, launchTemplateUpdate, listGroupInstances, terminateGroupInstance, updateGroup } from '../../aws/autoscaling/shared.ts';
import { failNodegroupUpdate, holdNodegroupTransition, listNodegroups, ROLLOUT_HOLD_MS, scopeOfCluster, updateNodegroupRollout } from '../../aws/eks/shared.ts';
import { isDrainable } from '../../kube/api/pods.ts';
import type { KObject } from '../../kube/api/types.ts';
import { evictPod } from '../../kube/apiserver/eviction.ts';
import { readyStatus } from './node-lifecycle.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

/** What the EKS provider's setup phase stored on the update's transition (`_tx.patch._rollout`). */
export interface RolloutRecord {
  /** The node group's Auto Scaling group. */
  asg: string;
  /** The template version new instances come from (a resolved version number), and the one before. */
  launchTemplate: { id: string; version: string };
  previous: { id: string; version: string };
  /** The group's sizes before the update. */
  min: number;
  max: number;
  desired: number;
  /** How many nodes may be replaced at once (updateConfig). */
  maxUnavailable: number;
  strategy: 'DEFAULT' | 'MINIMAL';
  /** Progress, written by this controller. */
  phase?: 'scale-up' | 'upgrade' | 'scale-down' | 'done';
  surge?: number;
  /** Instance id -> simulated ms its drain started / it became empty. */
  draining?: Record<string, number>;
  drained?: Record<string, number>;
}

/**
 * Drain timeout (EKS: 15 minutes) and the wait between an empty node and its
 * termination (EKS: 60 s), per timing profile; holdMs: how far ahead the
 * update's deadline is kept while this works (the EKS side fails an update
 * whose rollout did not finish by then).
 */
export const ROLLOUT_TIMING: Record<string, { evictionTimeoutMs: number; settleMs: number; holdMs: number }> = {
  realistic: { evictionTimeoutMs: 15 * 60_000, settleMs: 60_000, holdMs: ROLLOUT_HOLD_MS.realistic! },
  fast: { evictionTimeoutMs: 15_000, settleMs: 500, holdMs: ROLLOUT_HOLD_MS.fast! },
  instant: { evictionTimeoutMs: 15_000, settleMs: 0, holdMs: ROLLOUT_HOLD_MS.instant! },
};

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

const POLL_MS = 250;
const TERMINATING = /^Terminat/;

function instanceIdOfNode(n: KObject): string | undefined {
  const m = /\/(i-[0-9a-f]+)$/.exec(String(n.spec?.providerID ?? ''));
  return m?.[1];
}

/** drainablePods are the pods a drain must see gone from a node: not DaemonSet or mirror pods, not finished. */
export function drainablePods(pods: KObject[], nodeName: string): KObject[] {
  return pods.filter((p) => p.spec?.nodeName === nodeName && isDrainable(p));
}

/** surgeOf is the scale-up amount: the larger of twice the group's zones and maxUnavailable. */
export function surgeOf(zones: number, maxUnavailable: number): number {
  return Math.max(2 * Math.max(1, zones), maxUnavailable);
}

/** setCordon cordons a node (unschedulable, excluded from external load balancers) or undoes it. */
export async function setCordon(ctx: ControllerContext, name: string, on: boolean): Promise<void> {
  const nodesRes = ctx.reg.scheme.get('', 'v1', 'nodes')!;
  const cur = ctx.reg.cache.get(ctx.reg.keyFor(nodesRes, '', name))?.obj;
  if (!cur) return;
  const labelled = cur.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] === 'true';
  if (!!cur.spec?.unschedulable === on && labelled === on) return;
  await ctx.reg.guaranteedUpdate(nodesRes, '', name, (n) => {
    if (!n) throw new Error('node gone');
    n.spec ??= {};
    n.metadata!.labels ??= {};
    if (on) {
      n.spec.unschedulable = true;
      n.metadata!.labels[EXCLUDE_FROM_LB_LABEL] = 'true';
    } else {
      delete n.spec.unschedulable;
      delete n.metadata!.labels[EXCLUDE_FROM_LB_LABEL];
    }
    n.metadata!.resourceVersion = '';
    return n;
  }, { fieldManager: 'eks-nodegroup-rollout' });
}

/** drain evicts (or, forced, deletes) the node's drainable pods; true when some eviction was refused (a PodDisruptionBudget). */
export async function drain(ctx: ControllerContext, pods: KObject[], force: boolean): Promise<boolean> {
  const podsRes = ctx.reg.scheme.get('', 'v1', 'pods')!;
  let blocked = false;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const ns = p.metadata!.namespace!;
    const name = p.metadata!.name!;
    try {
      if (force) await ctx.reg.delete(podsRes, ns, name, {}, { fieldManager: 'eks-nodegroup-rollout' });
      else await evictPod(ctx.reg, ns, name, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } }, false);
    } catch (e) {
      const code = (e as { status?: { code?: number } }).status?.code;
      if (code === 429) blocked = true;
      else if (code !== 404) ctx.log.warn({ err: e, pod: `${ns}/${name}` }, 'node group rollout: eviction failed');
    }
  }
  return blocked;
}

async function syncRollouts(ctx: ControllerContext): Promise<void> {
  const { deps, info, nowMs } = ctx;
  const scope = scopeOfCluster(info);
  for (const ng of listNodegroups(deps.state, info)) {
    const tx = ng._tx;
    const r0: RolloutRecord | undefined = tx?.op === 'update' && !tx.fail ? tx.patch?._rollout : undefined;
    if (!r0 || r0.phase === 'done') continue;
    const r: RolloutRecord = structuredClone(r0);
    const timing = ROLLOUT_TIMING[deps.config.timingProfile] ?? ROLLOUT_TIMING.fast!;
    const force = !!tx.patch?._force;
    const name: string = ng.nodegroupName;
    // Progress is written only when it changed (a pass that waits writes nothing).
    let stored = JSON.stringify(r0);
    const save = async () => {
      const now = JSON.stringify(r);
      if (now === stored) return;
      stored = now;
      await updateNodegroupRollout(deps.state, info, name, tx.id, r);
    };
    // Keep the node group UPDATING while this works.
    if (tx.until < nowMs + timing.holdMs / 2) await holdNodegroupTransition(deps.state, info, name, nowMs + timing.holdMs);

    const instances = listGroupInstances(deps.state, scope, r.asg);
    const live = instances.filter((i) => !TERMINATING.test(i.LifecycleState));
    const isNew = (i: { LaunchTemplate?: { LaunchTemplateId?: string; Version?: string } }) =>
      i.LaunchTemplate?.LaunchTemplateId === r.launchTemplate.id && i.LaunchTemplate?.Version === r.launchTemplate.version;
    const old = live.filter((i) => !isNew(i));
    const fresh = live.filter(isNew);
    const nodeByInstance = new Map<string, KObject>();
    for (const e of ctx.reg.cache.list('nodes', '')) {
      const id = instanceIdOfNode(e.obj);
      if (id) nodeByInstance.set(id, e.obj);
    }
    const readyNode = (id: string) => {
      const n = nodeByInstance.get(id);
      return !!n && readyStatus(n) === 'True';
    };

    r.phase ??= r.strategy === 'MINIMAL' ? 'upgrade' : 'scale-up';
    if (r.phase === 'scale-up') {
      if (r.surge === undefined) {
        const zones = new Set(instances.map((i) => i.AvailabilityZone)).size || 1;
        r.surge = surgeOf(zones, r.maxUnavailable);
        await updateGroup(deps.state, scope, { AutoScalingGroupName: r.asg, MaxSize: r.max + r.surge, DesiredCapacity: r.desired + r.surge });
        await save();
        ctx.log.info({ cluster: info.name, nodegroup: name, surge: r.surge }, 'node group update: scaling up');
      }
      const oldZones = new Set(old.map((i) => i.AvailabilityZone));
      const freshZones = new Set(fresh.filter((i) => readyNode(i.InstanceId)).map((i) => i.AvailabilityZone));
      const allReady = fresh.length > 0 && fresh.every((i) => readyNode(i.InstanceId));
      if (!allReady || [...oldZones].some((z) => !freshZones.has(z))) {
        ctx.wake(nowMs + POLL_MS);
        continue;
      }
      for (const i of old) {
        const n = nodeByInstance.get(i.InstanceId);
        if (n) await setCordon(ctx, n.metadata!.name!, true);
      }
      r.phase = 'upgrade';
      await save();
    }

    if (r.phase === 'upgrade') {
      r.draining ??= {};
      r.drained ??= {};
      const oldIds = new Set(old.map((i) => i.InstanceId));
      for (const id of Object.keys(r.draining)) if (!oldIds.has(id)) delete r.draining[id];
      for (const i of old) {
        if (Object.keys(r.draining).length >= r.maxUnavailable) break;
        if (r.draining[i.InstanceId] === undefined) r.draining[i.InstanceId] = nowMs;
      }
      const pods = ctx.reg.cache.list('pods', '').map((e) => e.obj);
      for (const [id, started] of Object.entries(r.draining)) {
        const node = nodeByInstance.get(id);
        const nodeName = node?.metadata?.name;
        if (nodeName) await setCordon(ctx, nodeName, true);
        const left = nodeName ? drainablePods(pods, nodeName) : [];
        if (left.length > 0) {
          delete r.drained[id];
          const blocked = await drain(ctx, left, force);
          if (!force && nowMs - started >= timing.evictionTimeoutMs) {
            await failRollout(ctx, ng, r, nodeName!, old.map((i) => nodeByInstance.get(i.InstanceId)?.metadata?.name).filter((x): x is string => !!x));
            ctx.log.info({ cluster: info.name, nodegroup: name, node: nodeName, blocked }, 'node group update failed: pods were not evicted in time');
            return;
          }
          continue;
        }
        r.drained[id] ??= nowMs;
        if (nowMs - r.drained[id]! < timing.settleMs) {
          ctx.wake(r.drained[id]! + timing.settleMs);
          continue;
        }
        await terminateGroupInstance(deps.state, scope, id, false);
        delete r.draining[id];
        delete r.drained[id];
        ctx.log.info({ cluster: info.name, nodegroup: name, node: nodeName, instance: id }, 'node group update: old node drained and terminated');
      }
      if (old.length === 0 && Object.keys(r.draining).length === 0) r.phase = 'scale-down';
      await save();
      if (r.phase === 'upgrade') {
        ctx.wake(nowMs + POLL_MS);
        continue;
      }
    }

    if (r.phase === 'scale-down') {
      // The replacements must be up before the group shrinks back.
      const want = r.desired + (r.surge ?? 0);
      if (fresh.length < want || !fresh.every((i) => readyNode(i.InstanceId))) {
        ctx.wake(nowMs + POLL_MS);
        continue;
      }
      await updateGroup(deps.state, scope, { AutoScalingGroupName: r.asg, MinSize: r.min, MaxSize: r.max, DesiredCapacity: r.desired });
      r.phase = 'done';
      await save();
      await holdNodegroupTransition(deps.state, info, name, nowMs);
      ctx.log.info({ cluster: info.name, nodegroup: name }, 'node group update: all nodes replaced');
    }
  }
}

/** Undo a failed rollout: old nodes schedulable again, the group back on its previous template and sizes; then the update fails. */
async function failRollout(ctx: ControllerContext, ng: any, r: RolloutRecord, nodeName: string, oldNodes: string[]): Promise<void> {
  const { deps, info, nowMs } = ctx;
  const scope = scopeOfCluster(info);
  for (const n of oldNodes) await setCordon(ctx, n, false);
  await updateGroup(deps.state, scope, {
    AutoScalingGroupName: r.asg,
    MinSize: r.min,
    MaxSize: r.max,
    DesiredCapacity: r.desired,
    ...launchTemplateUpdate(describeGroup(deps.state, scope, r.asg), { LaunchTemplateId: r.previous.id, Version: r.previous.version }),
  });
  await failNodegroupUpdate(
    deps.state,
    info,
    ng.nodegroupName,
    { errorCode: 'PodEvictionFailure', errorMessage: `Reached max retries while trying to evict pods from nodes in node group ${ng.nodegroupName}`, resourceIds: [nodeName] },
    nowMs,
  );
}

export const nodegroupRolloutController: WorkloadController = {
  name: 'nodegroup-rollout',
  resources: ['nodes'],
  sync: syncRollouts,
};
