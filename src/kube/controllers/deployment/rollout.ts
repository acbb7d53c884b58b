/**
 * The arithmetic of Deployment rollouts, as kube-controller-manager does it
 * (pkg/controller/deployment/util/deployment_util.go and
 * pkg/controller/replicaset): surge and unavailability fenceposts, the
 * pod-template-hash, the revision annotations, how many replicas the new
 * and old ReplicaSets get in one rolling-update step, and which pods a
 * ReplicaSet deletes first when it scales down.
 */
import type { KObject } from '../../api/types.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** intOrPercent resolves an IntOrString against a total, rounding up or down (intstr.GetScaledValueFromIntOrPercent). */
export function intOrPercent(v: number | string | undefined, total: number, roundUp: boolean, dflt: number | string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    const n = Number(x);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * resolveFenceposts returns (maxSurge, maxUnavailable) for a Deployment:
 * surge rounds up, unavailable rounds down, and if both come out 0,
 * unavailable is 1 so the rollout can progress.
 */
export function resolveFenceposts(d: KObject): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = intOrPercent(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = intOrPercent(ru.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** fnv32a of a string's UTF-8 bytes. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** safeEncodeString maps a string onto characters that cannot spell words (rand.SafeEncodeString). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/** canonicalJson renders a value with sorted keys, so equal templates hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * podTemplateHash computes the pod-template-hash label value for a template
 * and the Deployment's collisionCount (controller.ComputeHash: fnv32a, then
 * safe-encoded decimal). The template's own pod-template-hash label is ignored.
 */
export function podTemplateHash(template: KObject, collisionCount = 0): string {
  const t = structuredClone(template);
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  let s = canonicalJson(t);
  if (collisionCount > 0) s += `#${collisionCount}`;
  return safeEncodeString(String(fnv32a(s)));
}

/** revisionOf reads a ReplicaSet's revision annotation (0 when absent or invalid). */
export function revisionOf(rs: KObject): number {
  const v = Number.parseInt(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? '', 10);
  return Number.isFinite(v) ? v : 0;
}

/** maxRevision is the highest revision among ReplicaSets. */
export function maxRevision(rss: KObject[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/**
 * newReplicasForScaleUp: how many replicas the new ReplicaSet should have
 * in a RollingUpdate step (NewRSNewReplicas): never more than the
 * Deployment's replicas, and never beyond replicas + maxSurge in total.
 */
export function newReplicasForScaleUp(d: KObject, allRsReplicas: number, newRsReplicas: number): number {
  const replicas = d.spec?.replicas ?? 1;
  if ((d.spec?.strategy?.type ?? 'RollingUpdate') === 'Recreate') return replicas;
  const { maxSurge } = resolveFenceposts(d);
  const maxTotal = replicas + maxSurge;
  if (allRsReplicas >= maxTotal) return newRsReplicas;
  const scaleUp = Math.min(maxTotal - allRsReplicas, replicas - newRsReplicas);
  return newRsReplicas + Math.max(0, scaleUp);
}

/**
 * maxScaleDownOld: how many old replicas may go now (reconcileOldReplicaSets):
 * total available may not fall below replicas - maxUnavailable, counting
 * the new ReplicaSet's unavailable pods first.
 */
export function maxScaleDownOld(d: KObject, allPods: number, newRsReplicas: number, newRsAvailable: number): number {
  const replicas = d.spec?.replicas ?? 1;
  const { maxUnavailable } = resolveFenceposts(d);
  const minAvailable = replicas - maxUnavailable;
  const newUnavailable = newRsReplicas - newRsAvailable;
  return Math.max(0, allPods - minAvailable - newUnavailable);
}

/** isPodReady: the Ready condition is True. */
export function isPodReady(pod: KObject): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** isPodAvailable: ready for at least minReadySeconds at `nowMs`. */
export function isPodAvailable(pod: KObject, minReadySeconds: number, nowMs: number): boolean {
  const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return false;
  if (minReadySeconds === 0) return true;
  return Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000 <= nowMs;
}

function rank(pod: KObject): number[] {
  const phase = pod.status?.phase;
  const assigned = pod.spec?.nodeName ? 1 : 0;
  const phaseRank = phase === 'Pending' ? 0 : phase === 'Unknown' ? 1 : 2;
  const ready = isPodReady(pod) ? 1 : 0;
  const deletionCost = Number.parseInt(pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? '0', 10) || 0;
  const readyAt = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.lastTransitionTime;
  const restarts = (pod.status?.containerStatuses ?? []).reduce((s: number, c: any) => s + (c.restartCount ?? 0), 0);
  const created = Date.parse(pod.metadata?.creationTimestamp ?? '') || 0;
  // Lower sorts first = deleted first (controller.ActivePodsWithRanks.Less).
  return [assigned, phaseRank, ready, deletionCost, readyAt ? -Date.parse(readyAt) : 0, -restarts, -created];
}

/**
 * podsToDelete picks `count` pods a ReplicaSet removes when scaling down, in
 * upstream's order: unassigned before assigned, Pending before Unknown
 * before Running, not ready before ready, lower deletion cost first, more
 * recently ready first, more restarts first, newer first.
 */
export function podsToDelete(pods: KObject[], count: number): KObject[] {
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  return [...pods].sort((a, b) => cmp(rank(a), rank(b))).slice(0, Math.max(0, count));
}
