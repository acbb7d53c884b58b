/**
 * The disruption controller of kube-controller-manager: the status of every
 * PodDisruptionBudget, which the Eviction API (src/kube/apiserver/eviction.ts),
 * `kubectl get pdb` and node drains read:
 *
 * - expectedPods: with an integer minAvailable, the number of pods the
 *   selector matches; with maxUnavailable or a percentage, the sum of the
 *   scale of the pods' controllers (Deployment through its ReplicaSet,
 *   ReplicaSet, StatefulSet, ReplicationController; a pod without one
 *   counts as 1);
 * - desiredHealthy: minAvailable (a percentage of expectedPods rounded up),
 *   or expectedPods - maxUnavailable (rounded up), never below 0;
 * - currentHealthy: Ready pods not being deleted and not evicted in the last
 *   2 minutes (status.disruptedPods, dropped once the pod is being deleted or
 *   after 2 minutes);
 * - disruptionsAllowed = currentHealthy - desiredHealthy (at least 0), the
 *   DisruptionAllowed condition (SufficientPods / InsufficientPods) and
 *   observedGeneration.
 *
 * Not done yet: unhealthyPodEvictionPolicy (AlwaysAllow), the
 * NoControllers/SyncFailed reporting for unmanaged pods, scale subresources of
 * custom resources.
 */
import type { KObject } from '../../kube/api/types.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels } from '../../kube/apiserver/selectors.ts';
import { isPodReady } from '../../kube/controllers/deployment/rollout.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

/** How long an evicted pod counts as disrupted before the controller stops waiting for its deletion (DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

function scaled(v: unknown, total: number): { value: number; percent: boolean } {
  if (typeof v === 'number') return { value: v, percent: false };
  const m = /^(\d+)%$/.exec(String(v ?? ''));
  if (!m) return { value: Number(v) || 0, percent: false };
  return { value: Math.ceil((Number(m[1]) * total) / 100), percent: true };
}

/** The status of one budget from the pods of its namespace and their controllers' scale (pure). */
export function computeDisruptionStatus(
  pdb: KObject,
  pods: KObject[],
  scaleOf: (pod: KObject) => { key: string; replicas: number } | undefined,
  nowMs: number,
): { status: Record<string, any>; recheckAtMs?: number } {
  const sel = labelSelectorFromObject(pdb.spec?.selector);
  const mine = sel && Object.keys(pdb.spec?.selector ?? {}).length > 0 ? pods.filter((p) => matchLabels(sel, p.metadata?.labels)) : [];
  const spec = pdb.spec ?? {};
  let expected: number;
  const useScale = spec.maxUnavailable !== undefined || (typeof spec.minAvailable === 'string' && spec.minAvailable.endsWith('%'));
  if (useScale) {
    const controllers = new Map<string, number>();
    let unmanaged = 0;
    for (const p of mine) {
      const s = scaleOf(p);
      if (s) controllers.set(s.key, s.replicas);
      else unmanaged++;
    }
    expected = [...controllers.values()].reduce((a, b) => a + b, 0) + unmanaged;
  } else expected = mine.length;
  let desired: number;
  if (spec.maxUnavailable !== undefined) desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected).value);
  else desired = Math.max(0, scaled(spec.minAvailable ?? 1, expected).value);
  // Recently evicted pods (disruptedPods) are not healthy until deleted or timed out.
  const disrupted: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  const byName = new Map(mine.map((p) => [p.metadata!.name!, p]));
  for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
    const p = byName.get(name);
    if (!p || p.metadata?.deletionTimestamp) continue;
    const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expires <= nowMs) continue;
    disrupted[name] = at;
    recheckAtMs = Math.min(recheckAtMs ?? Infinity, expires);
  }
  const healthy = mine.filter((p) => !p.metadata?.deletionTimestamp && !disrupted[p.metadata!.name!] && isPodReady(p)).length;
  const allowed = Math.max(0, healthy - desired);
  const status: Record<string, any> = {
    observedGeneration: pdb.metadata?.generation ?? 1,
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
  };
  if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
  const prev = (pdb.status?.conditions ?? []).find((c: any) => c.type === 'DisruptionAllowed');
  const cs = allowed > 0 ? 'True' : 'False';
  const reason = allowed > 0 ? 'SufficientPods' : 'InsufficientPods';
  status.conditions = [
    {
      type: 'DisruptionAllowed',
      status: cs,
      reason,
      message: '',
      observedGeneration: status.observedGeneration,
      lastTransitionTime: prev && prev.status === cs ? prev.lastTransitionTime : timestamp(new Date(nowMs)),
    },
  ];
  return { status, recheckAtMs };
}

function controllerRef(o: KObject): { kind: string; name: string; uid: string } | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller) as any;
}

/** syncDisruptionBudgets writes the status of every PodDisruptionBudget of the cluster. */
export async function syncDisruptionBudgets(ctx: Pick<ControllerContext, 'reg' | 'nowMs' | 'wake' | 'log'>): Promise<void> {
  const { reg } = ctx;
  const pdbRes = reg.scheme.get('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbRes) return;
  const pdbs = reg.cache.list('policy/poddisruptionbudgets', '');
  if (pdbs.length === 0) return;
  const podsByNs = new Map<string, KObject[]>();
  for (const e of reg.cache.list('pods', '')) {
    const ns = e.obj.metadata!.namespace!;
    const l = podsByNs.get(ns) ?? [];
    l.push(e.obj);
    podsByNs.set(ns, l);
  }
  const byUid = new Map<string, KObject>();
  for (const r of ['apps/replicasets', 'apps/deployments', 'apps/statefulsets', 'replicationcontrollers']) for (const e of reg.cache.list(r, '')) byUid.set(e.obj.metadata!.uid!, e.obj);
  const scaleOf = (pod: KObject) => {
    let ref = controllerRef(pod);
    if (!ref) return undefined;
    let owner = byUid.get(ref.uid);
    if (!owner) return undefined;
    if (ref.kind === 'ReplicaSet') {
      const up = controllerRef(owner);
      const d = up?.kind === 'Deployment' ? byUid.get(up.uid) : undefined;
      if (d) {
        ref = up;
        owner = d;
      }
    }
    return { key: ref!.uid, replicas: owner.spec?.replicas ?? 1 };
  };
  const jobs: Promise<unknown>[] = [];
  for (const e of pdbs) {
    const pdb = e.obj;
    const m = pdb.metadata!;
    const { status, recheckAtMs } = computeDisruptionStatus(pdb, podsByNs.get(m.namespace!) ?? [], scaleOf, ctx.nowMs);
    if (recheckAtMs !== undefined) ctx.wake(recheckAtMs);
    const strip = (s: any) => JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason]) });
    if (strip(status) === strip(pdb.status ?? {})) continue;
    jobs.push(
      reg
        .guaranteedUpdate(pdbRes, m.namespace!, m.name!, (cur) => {
          if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pdb replaced');
          const next = structuredClone(cur);
          next.metadata!.resourceVersion = '';
          // Evictions since this pass computed the status keep their entries (the eviction wrote them).
          const { status: fresh } = computeDisruptionStatus(cur, podsByNs.get(m.namespace!) ?? [], scaleOf, ctx.nowMs);
          next.status = fresh;
          return next;
        }, { fieldManager: 'kube-controller-manager', subresource: 'status' })
        .catch((err) => ctx.log.warn({ err, pdb: m.name }, 'pdb status update failed')),
    );
  }
  await Promise.all(jobs);
}

/** The disruption controller, as the data plane loop runs it. */
export const disruptionController: WorkloadController = {
  name: 'disruption',
  resources: ['policy/poddisruptionbudgets', 'pods'],
  sync: syncDisruptionBudgets,
};
