/**
 * pods/eviction (policy/v1 Eviction): deletes a pod unless a
 * PodDisruptionBudget covering it allows no disruption, in which case the
 * answer is upstream's 429 TooManyRequests. When the disruption controller
 * has not computed the budget's status, the server computes it from the
 * pods it selects (Ready pods count as healthy).
 */
import type { KObject } from '../api/types.ts';
import { StatusError, newInternalError, newNotFound } from './errors.ts';
import type { ClusterRegistry, DeleteOptions } from './registry/generic-store.ts';
import { timestamp } from './registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels } from './selectors.ts';

function isReady(p: KObject): boolean {
  return !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function scaled(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v ?? ''));
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Budget status as the disruption controller would compute it. */
export function computePdbStatus(pdb: KObject, pods: KObject[]): { expectedPods: number; currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number } {
  const sel = labelSelectorFromObject(pdb.spec?.selector);
  const mine = sel ? pods.filter((p) => matchLabels(sel, p.metadata?.labels)) : [];
  const expected = mine.length;
  const healthy = mine.filter(isReady).length;
  let desired: number;
  if (pdb.spec?.maxUnavailable !== undefined) desired = Math.max(0, expected - scaled(pdb.spec.maxUnavailable, expected, true));
  else desired = scaled(pdb.spec?.minAvailable ?? 1, expected, true);
  return { expectedPods: expected, currentHealthy: healthy, desiredHealthy: desired, disruptionsAllowed: Math.max(0, healthy - desired) };
}

export async function evictPod(reg: ClusterRegistry, ns: string, name: string, body: KObject, dryRun: boolean): Promise<void> {
  const podsRes = reg.scheme.get('', 'v1', 'pods')!;
  const cur = await reg.getFromStore(podsRes, ns, name);
  if (!cur) throw newNotFound({ group: '', resource: 'pods' }, name);
  const pod = cur.obj;
  const opts = (body?.deleteOptions ?? {}) as DeleteOptions;
  const phase = pod.status?.phase;
  const terminal = phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
  if (!terminal) {
    await reg.fresh();
    const pdbRes = reg.scheme.get('policy', 'v1', 'poddisruptionbudgets')!;
    const pdbs = reg.cache.list(pdbRes.storageResource, ns).map((e) => e.obj).filter((b) => {
      const sel = labelSelectorFromObject(b.spec?.selector);
      return !!sel && sel.length > 0 && matchLabels(sel, pod.metadata?.labels);
    });
    if (pdbs.length > 1) throw newInternalError(new Error('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.'));
    if (pdbs.length === 1) {
      const pdb = pdbs[0]!;
      const pods = reg.cache.list('pods', ns).map((e) => e.obj);
      const fresh = pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.disruptionsAllowed !== undefined;
      const st = computePdbStatus(pdb, pods);
      const allowed = fresh ? pdb.status.disruptionsAllowed : st.disruptionsAllowed;
      if (allowed <= 0) {
        throw new StatusError({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: "Cannot evict pod as it would violate the pod's disruption budget.",
          reason: 'TooManyRequests',
          details: { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata!.name} needs ${fresh ? pdb.status.desiredHealthy : st.desiredHealthy} healthy pods and has ${fresh ? pdb.status.currentHealthy : st.currentHealthy} currently` }] },
          code: 429,
        });
      }
      if (!dryRun) {
        await reg.guaranteedUpdate(pdbRes, ns, pdb.metadata!.name!, (b) => {
          if (!b) throw newNotFound(pdbRes, pdb.metadata!.name!);
          const s = fresh ? b.status : { ...(b.status ?? {}), ...st, observedGeneration: b.metadata!.generation };
          b.status = { ...s, disruptionsAllowed: Math.max(0, (fresh ? b.status.disruptionsAllowed : st.disruptionsAllowed) - 1), disruptedPods: { ...(b.status?.disruptedPods ?? {}), [name]: timestamp(reg.clock.now()) } };
          b.metadata!.resourceVersion = '';
          return b;
        }, { subresource: 'status', fieldManager: 'kube-apiserver' });
      }
    }
  }
  await reg.delete(podsRes, ns, name, opts, { dryRun });
}
