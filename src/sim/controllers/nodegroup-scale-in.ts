/**
 * Managed node group scale-in as EKS does it: EKS puts a termination
 * lifecycle hook (`Terminate-LC-Hook`, eks/shared.ts
 * MANAGED_NODEGROUP_TERMINATE_HOOK) on the node group's Auto Scaling group,
 * so an instance Auto Scaling takes out (desired size lowered by
 * UpdateNodegroupConfig, SetDesiredCapacity, TerminateInstanceInAutoScalingGroup,
 * an instance refresh) waits in `Terminating:Wait`. This controller then
 * cordons its node and drains it through the Eviction API
 * (PodDisruptionBudgets apply; DaemonSet and mirror pods stay), reusing the
 * node group rollout's cordon and drain (nodegroup-rollout.ts), and completes
 * the lifecycle action (CONTINUE) once the node's pods are gone, so Auto
 * Scaling terminates the instance. Pods still there after the drain timeout
 * go with the node: the action is completed anyway (EKS lets Auto Scaling
 * go on; the hook's own 30-minute heartbeat timeout is the backstop).
 *
 * Deleting a managed node group works the same way, as the EKS user guide
 * describes it: EKS sets the group's sizes to zero, every node is drained
 * before its instance terminates, and the deletion completes (the group is
 * deleted) once the last instance is gone; this controller holds the
 * deletion's transition until then.
 *
 * Self-managed node groups get no hook and no drain: their pods go when the
 * node goes, as on EKS without a termination handler. Drain timeouts per
 * profile: SCALE_IN_DRAIN_TIMEOUT_MS (kept in memory: after a restart the
 * drain starts over, still bounded by the hook's heartbeat timeout).
 */
import { completeLifecycleAction, listGroupInstances } from '../../aws/autoscaling/shared.ts';
import { holdNodegroupTransition, listNodegroups, MANAGED_NODEGROUP_TERMINATE_HOOK, scopeOfCluster } from '../../aws/eks/shared.ts';
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { drain, drainablePods, setCordon } from './nodegroup-rollout.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

/**
 * How long pods may take to leave before the instance is terminated anyway:
 * 5 minutes on EKS ("If the node hasn't been drained after 5 minutes, Amazon
 * EKS lets Auto Scaling continue the forced termination of the instance",
 * user guide, Delete a managed node group); shorter in the quick profiles.
 */
export const SCALE_IN_DRAIN_TIMEOUT_MS: Record<string, number> = {
  realistic: 5 * 60_000,
  // As the rollout's eviction timeout in these profiles.
  fast: 15_000,
  instant: 15_000,
};

/** How far ahead a deletion's deadline is kept while its nodes drain (the EKS side completes it when this controller lets go). */
const HOLD_MS = 60_000;

const POLL_MS = 250;

/** Simulated ms each waiting instance's drain started, per cluster. */
const started = new WeakMap<ClusterRegistry, Map<string, number>>();

async function syncScaleIn(ctx: ControllerContext): Promise<void> {
  const { deps, info, nowMs, reg } = ctx;
  const scope = scopeOfCluster(info);
  let since = started.get(reg);
  let nodeByInstance: Map<string, KObject> | undefined;
  let pods: KObject[] | undefined;
  const seen = new Set<string>();
  for (const ng of listNodegroups(deps.state, info)) {
    const asg: string | undefined = ng.resources?.autoScalingGroups?.[0]?.name;
    if (!asg) continue;
    if (ng._tx?.op === 'delete' && ng._tx.patch?._drain) {
      // A node group deletion: the group was scaled to zero; once its last
      // instance is gone the deletion completes (the group is deleted then).
      if (listGroupInstances(deps.state, scope, asg).length === 0) {
        await holdNodegroupTransition(deps.state, info, ng.nodegroupName, nowMs);
        ctx.log.info({ cluster: info.name, nodegroup: ng.nodegroupName }, 'node group deletion: every node drained and terminated');
        continue;
      }
      if (ng._tx.until < nowMs + HOLD_MS / 2) await holdNodegroupTransition(deps.state, info, ng.nodegroupName, nowMs + HOLD_MS);
      ctx.wake(nowMs + POLL_MS);
    }
    const waiting = listGroupInstances(deps.state, scope, asg, 'Terminating:Wait');
    if (waiting.length === 0) continue;
    if (!since) started.set(reg, (since = new Map()));
    if (!nodeByInstance) {
      nodeByInstance = new Map();
      for (const e of reg.cache.list('nodes', '')) {
        const id = /\/(i-[0-9a-f]+)$/.exec(String(e.obj.spec?.providerID ?? ''))?.[1];
        if (id) nodeByInstance.set(id, e.obj);
      }
      pods = reg.cache.list('pods', '').map((e) => e.obj);
    }
    const timeout = SCALE_IN_DRAIN_TIMEOUT_MS[deps.config.timingProfile] ?? SCALE_IN_DRAIN_TIMEOUT_MS.fast!;
    for (const inst of waiting) {
      const id = inst.InstanceId;
      seen.add(id);
      if (!since.has(id)) since.set(id, nowMs);
      const nodeName = nodeByInstance.get(id)?.metadata?.name;
      let left: KObject[] = [];
      if (nodeName) {
        await setCordon(ctx, nodeName, true);
        left = drainablePods(pods!, nodeName);
        if (left.length > 0) await drain(ctx, left, false);
      }
      const timedOut = nowMs - since.get(id)! >= timeout;
      if (left.length > 0 && !timedOut) {
        ctx.wake(nowMs + POLL_MS);
        continue;
      }
      try {
        await completeLifecycleAction(deps.state, scope, { AutoScalingGroupName: asg, LifecycleHookName: MANAGED_NODEGROUP_TERMINATE_HOOK.LifecycleHookName, InstanceId: id, LifecycleActionResult: 'CONTINUE' });
        ctx.log.info({ cluster: info.name, nodegroup: ng.nodegroupName, node: nodeName, instance: id, podsLeft: left.length }, left.length ? 'node group scale-in: drain timed out, terminating' : 'node group scale-in: node drained, terminating');
      } catch (e) {
        // Another hook of the user's holds it, or it went meanwhile.
        ctx.log.debug?.({ err: e, instance: id }, 'node group scale-in: lifecycle action not completed');
      }
      since.delete(id);
    }
  }
  if (since) for (const id of since.keys()) if (!seen.has(id)) since.delete(id);
}

/** Drains managed node groups' nodes before Auto Scaling terminates them (see the module comment). */
export const nodegroupScaleInController: WorkloadController = {
  name: 'nodegroup-scale-in',
  resources: ['nodes'],
  sync: syncScaleIn,
};
