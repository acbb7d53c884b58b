/**
 * The node lifecycle rules of kube-controller-manager, as pure functions the
 * data plane loop applies (pkg/controller/nodelifecycle and
 * pkg/controller/tainteviction upstream):
 *
 * - a node whose kubelet has not renewed its Lease / posted status for the
 *   node monitor grace period (40 s) gets every kubelet condition set to
 *   Unknown ("Kubelet stopped posting node status.");
 * - taints follow the Ready condition and spec.unschedulable
 *   (TaintNodesByCondition and taint-based evictions):
 *   Ready=Unknown -> node.kubernetes.io/unreachable NoSchedule + NoExecute,
 *   Ready=False   -> node.kubernetes.io/not-ready NoSchedule + NoExecute,
 *   unschedulable -> node.kubernetes.io/unschedulable NoSchedule;
 *   NoExecute taints carry timeAdded;
 * - the taint eviction controller deletes a pod on a node with NoExecute
 *   taints it does not tolerate at once, and one tolerating them all after
 *   the smallest tolerationSeconds (counted from the taint's timeAdded);
 *   a toleration without tolerationSeconds tolerates forever.
 */
import type { KObject } from '../../kube/api/types.ts';
import { tolerates } from '../scheduler/scheduler.ts';

/** node-monitor-grace-period of kube-controller-manager (1.31). */
export const NODE_MONITOR_GRACE_MS = 40_000;

/** The kubelet's nodeStatusReportFrequency: status is posted at least this often even when nothing changed. */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
/** The cloud node lifecycle controller's taint on a node whose instance is stopped. */
export const TAINT_SHUTDOWN = 'node.cloudprovider.kubernetes.io/shutdown';

const MANAGED = new Set([TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_UNSCHEDULABLE, TAINT_SHUTDOWN]);

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

/** readyStatus is the node's Ready condition status ('True' | 'False' | 'Unknown'), 'Unknown' when absent. */
export function readyStatus(node: KObject): string {
  return (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.status ?? 'Unknown';
}

/** unknownConditions returns the node's conditions as the node lifecycle controller leaves them when the kubelet went silent. */
export function unknownConditions(conditions: any[], now: string): any[] {
  return conditions.map((c) =>
    c.status === 'Unknown'
      ? c
      : { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now },
  );
}

/**
 * desiredTaints returns the node's taint list with the lifecycle taints made
 * to match its Ready condition, spec.unschedulable and `shutdown` (instance
 * stopped); other taints are kept in place. Existing lifecycle taints keep
 * their timeAdded. Returns undefined when nothing changes.
 */
export function desiredTaints(node: KObject, now: string, shutdown: boolean): Taint[] | undefined {
  const cur: Taint[] = node.spec?.taints ?? [];
  const want: Taint[] = [];
  const ready = readyStatus(node);
  if (node.spec?.unschedulable) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  if (ready === 'Unknown') want.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  else if (ready === 'False') want.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute' });
  if (shutdown) want.push({ key: TAINT_SHUTDOWN, effect: 'NoSchedule' });
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const keep = cur.filter((t) => !MANAGED.has(t.key));
  const lifecycle = want.map((w) => {
    const had = cur.find((t) => same(t, w));
    if (had) return had;
    return w.effect === 'NoExecute' ? { ...w, timeAdded: now } : w;
  });
  const next = [...keep, ...lifecycle];
  const curManaged = cur.filter((t) => MANAGED.has(t.key));
  if (curManaged.length === lifecycle.length && lifecycle.every((t) => curManaged.some((c) => same(c, t)))) return undefined;
  return next;
}

/**
 * evictionTime says when the taint eviction controller deletes a pod bound
 * to a node with these taints: 'now', an epoch ms, or undefined (never: no
 * NoExecute taint, or tolerated forever).
 */
export function evictionTime(pod: KObject, taints: Taint[]): number | 'now' | undefined {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return undefined;
  const tols: any[] = pod.spec?.tolerations ?? [];
  let due: number | undefined;
  for (const taint of noExecute) {
    const used = tols.filter((t) => tolerates(t, taint));
    if (used.length === 0) return 'now';
    let min = Infinity;
    for (const t of used) {
      if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      min = Math.min(min, Math.max(0, Number(t.tolerationSeconds)));
    }
    if (min === Infinity) continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    const at = (Number.isFinite(added) ? added : 0) + min * 1000;
    due = due === undefined ? at : Math.min(due, at);
  }
  return due;
}
