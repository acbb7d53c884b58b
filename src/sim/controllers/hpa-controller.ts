/**
 * The HorizontalPodAutoscaler controller (autoscaling/v2, podautoscaler's
 * horizontal.go and replica_calculator.go) as one pass over a cluster's
 * watch cache, every 15 s of simulated time (--horizontal-pod-autoscaler-sync-period):
 *
 * - metrics come from the same model metrics.k8s.io serves
 *   (src/kube/apiserver/metrics-api.ts): Resource and ContainerResource
 *   metrics (cpu, memory) with Utilization or AverageValue targets; no
 *   metrics means cpu at 80% utilization;
 * - replica calculation as upstream: tolerance 0.1, ready pods only, missing
 *   pods assumed at 100% of their request when scaling down and 0 when
 *   scaling up, unready pods at 0 for cpu when scaling up, the largest
 *   proposal across metrics;
 * - behavior: stabilization windows (scale up 0 s, scale down 300 s by
 *   default) over the recommendations of the window, Pods/Percent policies
 *   with periodSeconds and selectPolicy Max/Min/Disabled over the scale
 *   events of the period, min/max replicas; a target at 0 replicas is left
 *   alone (ScalingDisabled);
 * - the target is scaled through its scale subresource (Deployment,
 *   ReplicaSet, StatefulSet, ReplicationController, custom resources with a
 *   scale subresource) with a SuccessfulRescale event;
 * - status: currentReplicas, desiredReplicas, lastScaleTime, currentMetrics,
 *   observedGeneration and the AbleToScale, ScalingActive and ScalingLimited
 *   conditions with upstream reasons and messages.
 *
 * - cpu samples of pods in their first 5 minutes count once they have been
 *   Ready for a metrics window (cpu initialization period, readiness delay).
 *
 * Not done: Pods, Object and External metric types (custom/external
 * metrics APIs are not served: ScalingActive False FailedGetPodsMetric /
 * FailedGetObjectMetric / FailedGetExternalMetric).
 */
import type { KObject } from '../../kube/api/types.ts';
import type { Resource } from '../../kube/api/scheme.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels, parseLabelSelector } from '../../kube/apiserver/selectors.ts';
import { readJsonPath, writeJsonPath } from '../../kube/apiserver/registry/structural.ts';
import { parseQuantity } from '../../kube/api/quantity.ts';
import { containerUsage, podReports } from '../../kube/apiserver/metrics-api.ts';
import { recordEvent } from './object-events.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const SYNC_PERIOD_MS = 15_000;
export const TOLERANCE = 0.1;
const COMPONENT = 'horizontal-pod-autoscaler';
const MANAGER = { fieldManager: 'kube-controller-manager' };

// ------------------------------------------------------------------ replica arithmetic

/** One pod's view for a resource metric. */
export interface PodSample {
  name: string;
  /** Running and Ready (the others are unready or missing). */
  ready: boolean;
  /** Pending (upstream counts it unready for cpu). */
  pending: boolean;
  /** For cpu: the sample is ignored as upstream's groupPods does (see cpuSampleUnready); default: pending or not ready. */
  cpuUnready?: boolean;
  /** Usage (milli-cores or bytes); undefined when the pod reports no metrics. */
  usage?: number;
  /** Sum of the containers' requests; undefined when one lacks a request. */
  request?: number;
}

export interface ReplicaProposal {
  replicas: number;
  /** Utilization in percent (utilization targets), integer as upstream. */
  utilization?: number;
  /** Average usage per pod (base units). */
  average: number;
}

/**
 * resourceReplicas: GetResourceReplicas (utilization target, percent) or
 * GetRawResourceReplicas (targetAverage, base units) over the pods of the
 * target. Throws with upstream's messages when there is nothing to compute from.
 */
export function resourceReplicas(currentReplicas: number, pods: PodSample[], resource: string, target: { utilization?: number; average?: number }): ReplicaProposal {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const isCpu = resource === 'cpu';
  const ready = new Map<string, { usage: number; request: number }>();
  const unready: PodSample[] = [];
  const missing: PodSample[] = [];
  for (const p of pods) {
    if (p.usage === undefined) {
      if (isCpu && p.pending) unready.push(p);
      else missing.push(p);
      continue;
    }
    if (isCpu && (p.cpuUnready ?? (p.pending || !p.ready))) {
      unready.push(p);
      continue;
    }
    ready.set(p.name, { usage: p.usage, request: p.request ?? 0 });
  }
  if (ready.size === 0) throw new Error(`did not receive metrics for targeted pods (pods might be unready)`);
  const useUtil = target.utilization !== undefined;
  if (useUtil) {
    for (const p of pods) if (p.request === undefined || p.request === 0) throw new Error(`missing request for ${resource} in container of Pod ${p.name}`);
  }
  const ratioOf = (m: Map<string, { usage: number; request: number }>) => {
    let usage = 0;
    let request = 0;
    for (const v of m.values()) {
      usage += v.usage;
      request += v.request;
    }
    if (useUtil) {
      const util = Math.trunc((usage * 100) / request);
      return { ratio: util / target.utilization!, utilization: util, average: usage / m.size };
    }
    const avg = usage / m.size;
    return { ratio: avg / target.average!, utilization: undefined, average: avg };
  };
  const first = ratioOf(ready);
  const rebalanceIgnored = unready.length > 0 && first.ratio > 1;
  if (missing.length === 0 && !rebalanceIgnored) {
    if (Math.abs(1 - first.ratio) <= TOLERANCE) return { replicas: currentReplicas, utilization: first.utilization, average: first.average };
    return { replicas: Math.ceil(first.ratio * ready.size), utilization: first.utilization, average: first.average };
  }
  const all = new Map(ready);
  for (const p of missing) {
    // Scaling down: missing pods use their whole request (or the target average); up: nothing.
    const usage = first.ratio < 1 ? (useUtil ? p.request ?? 0 : target.average!) : 0;
    all.set(p.name, { usage, request: p.request ?? 0 });
  }
  if (rebalanceIgnored) for (const p of unready) all.set(p.name, { usage: 0, request: p.request ?? 0 });
  const next = ratioOf(all);
  if (Math.abs(1 - next.ratio) <= TOLERANCE || (first.ratio < 1 && next.ratio > 1) || (first.ratio > 1 && next.ratio < 1)) {
    return { replicas: currentReplicas, utilization: first.utilization, average: first.average };
  }
  const proposed = Math.ceil(next.ratio * all.size);
  if ((first.ratio < 1 && proposed > currentReplicas) || (first.ratio > 1 && proposed < currentReplicas)) return { replicas: currentReplicas, utilization: first.utilization, average: first.average };
  return { replicas: proposed, utilization: first.utilization, average: first.average };
}

/** --horizontal-pod-autoscaler-cpu-initialization-period and --horizontal-pod-autoscaler-initial-readiness-delay. */
export const CPU_INITIALIZATION_PERIOD_MS = 300_000;
export const INITIAL_READINESS_DELAY_MS = 30_000;
/** The metrics window the resource metrics API reports (metrics-api.ts). */
const METRIC_WINDOW_MS = 15_000;

/**
 * cpuSampleUnready: upstream's groupPods rule for cpu. Within the first 5
 * minutes of a pod, a sample counts only once the pod is Ready and a whole
 * metrics window has passed since it became Ready; later, a pod that is not
 * Ready and never was (its Ready condition changed within 30 s of start) is ignored.
 */
export function cpuSampleUnready(pod: KObject, nowMs: number): boolean {
  const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const start = Date.parse(pod.status?.startTime ?? '');
  if (!ready || !Number.isFinite(start)) return true;
  const transition = Date.parse(ready.lastTransitionTime ?? '') || start;
  if (start + CPU_INITIALIZATION_PERIOD_MS > nowMs) {
    const sampleAt = Math.floor(nowMs / 1000) * 1000 - METRIC_WINDOW_MS;
    return ready.status === 'False' || sampleAt < transition + METRIC_WINDOW_MS;
  }
  return ready.status === 'False' && start + INITIAL_READINESS_DELAY_MS > transition;
}

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}
export interface ScaleEvent {
  atMs: number;
  change: number;
}
export interface Recommendation {
  atMs: number;
  replicas: number;
}

/** The behavior with upstream's defaults filled in (SetDefaults_HorizontalPodAutoscalerBehavior). */
export function behaviorWithDefaults(b: any): { scaleUp: ScalingRules; scaleDown: ScalingRules } {
  const up = b?.scaleUp ?? {};
  const down = b?.scaleDown ?? {};
  return {
    scaleUp: {
      stabilizationWindowSeconds: up.stabilizationWindowSeconds ?? 0,
      selectPolicy: up.selectPolicy ?? 'Max',
      policies: up.policies ?? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? 300,
      selectPolicy: down.selectPolicy ?? 'Max',
      policies: down.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  };
}

function changeInPeriod(periodSeconds: number, events: ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((e) => e.atMs > cutoff).reduce((s, e) => s + e.change, 0);
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, upEvents: ScaleEvent[], downEvents: ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const useMin = rules.selectPolicy === 'Min';
  let result = useMin ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, upEvents, nowMs) + changeInPeriod(p.periodSeconds, downEvents, nowMs);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = useMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, downEvents: ScaleEvent[], upEvents: ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const useMin = rules.selectPolicy === 'Min';
  let result = useMin ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, upEvents, nowMs) + changeInPeriod(p.periodSeconds, downEvents, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = useMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

export interface Normalized {
  replicas: number;
  /** ScalingLimited reason and message. */
  reason: string;
  message: string;
  /** True when the stabilization window held the recommendation back. */
  stabilized: boolean;
}

/**
 * normalizeDesiredReplicasWithBehaviors: stabilization over the
 * recommendations (which gets `desired` appended), then the rate limits and
 * min/max.
 */
export function normalizeWithBehavior(args: {
  current: number;
  desired: number;
  min: number;
  max: number;
  behavior: { scaleUp: ScalingRules; scaleDown: ScalingRules };
  recommendations: Recommendation[];
  upEvents: ScaleEvent[];
  downEvents: ScaleEvent[];
  nowMs: number;
}): Normalized {
  const { current, desired, behavior, nowMs } = args;
  const upCutoff = nowMs - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = nowMs - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let upRec = desired;
  let downRec = desired;
  for (const r of args.recommendations) {
    if (r.atMs > upCutoff) upRec = Math.min(upRec, r.replicas);
    if (r.atMs > downCutoff) downRec = Math.max(downRec, r.replicas);
  }
  let stabilizedRec = current;
  if (stabilizedRec < upRec) stabilizedRec = upRec;
  if (stabilizedRec > downRec) stabilizedRec = downRec;
  args.recommendations.push({ atMs: nowMs, replicas: desired });
  const stabilized = stabilizedRec !== desired;
  const want = stabilizedRec;
  if (want > current) {
    let up = scaleUpLimit(current, args.upEvents, args.downEvents, behavior.scaleUp, nowMs);
    if (up < current) up = current;
    const [limit, reason, message] = args.max > up
      ? [up, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
      : [args.max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    if (want > limit) return { replicas: limit, reason, message, stabilized };
  } else if (want < current) {
    let down = scaleDownLimit(current, args.downEvents, args.upEvents, behavior.scaleDown, nowMs);
    if (down > current) down = current;
    const [limit, reason, message] = args.min > down
      ? [args.min, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count']
      : [down, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate'];
    if (want < limit) return { replicas: limit, reason, message, stabilized };
  }
  return { replicas: want, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range', stabilized };
}

// ------------------------------------------------------------------ controller

interface HpaState {
  recommendations: Recommendation[];
  upEvents: ScaleEvent[];
  downEvents: ScaleEvent[];
  lastSyncMs: number;
  generation: number;
}

const states = new WeakMap<ClusterRegistry, Map<string, HpaState>>();

function stateOf(reg: ClusterRegistry, uid: string): HpaState {
  let m = states.get(reg);
  if (!m) states.set(reg, (m = new Map()));
  let s = m.get(uid);
  if (!s) m.set(uid, (s = { recommendations: [], upEvents: [], downEvents: [], lastSyncMs: 0, generation: 0 }));
  return s;
}

type Cond = { type: string; status: string; lastTransitionTime: string; reason: string; message: string };

function setCond(prev: Cond[], type: string, status: string, reason: string, message: string, now: string): Cond {
  const p = prev.find((c) => c.type === type);
  return { type, status, lastTransitionTime: p && p.status === status ? p.lastTransitionTime : now, reason, message };
}

function targetResource(reg: ClusterRegistry, ref: any): Resource | undefined {
  const [g, v] = String(ref?.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/') : ['', ref?.apiVersion ?? ''];
  for (const r of reg.scheme.all()) {
    if (r.kind === ref?.kind && r.group === g && (r.version === v || !v) && !r.virtual) return r;
  }
  return undefined;
}

function describeMetric(m: any): string {
  if (m.type === 'Resource') return `${m.resource?.name} resource${m.resource?.target?.type === 'Utilization' ? ' utilization (percentage of request)' : ''}`;
  if (m.type === 'ContainerResource') return `${m.containerResource?.name} container resource${m.containerResource?.target?.type === 'Utilization' ? ' utilization (percentage of request)' : ''}`;
  return `${String(m.type ?? '').toLowerCase()} metric`;
}

const metricScale = (resource: string) => (resource === 'cpu' ? 1000 : 1);
const formatValue = (resource: string, v: number) => (resource === 'cpu' ? `${Math.round(v)}m` : String(Math.round(v)));

/** One HPA: compute, scale, write status. */
async function syncHpa(ctx: ControllerContext, hpaRes: Resource, hpa: KObject): Promise<void> {
  const { reg, nowMs } = ctx;
  const m = hpa.metadata!;
  const ns = m.namespace!;
  const spec = hpa.spec ?? {};
  const now = timestamp(new Date(nowMs));
  const st = stateOf(reg, m.uid!);
  const prevConds: Cond[] = hpa.status?.conditions ?? [];
  // Sync every 15 s, or at once when the spec changed.
  if (st.lastSyncMs && nowMs - st.lastSyncMs < SYNC_PERIOD_MS && st.generation === (m.generation ?? 0)) {
    ctx.wake(st.lastSyncMs + SYNC_PERIOD_MS);
    return;
  }
  st.lastSyncMs = nowMs;
  st.generation = m.generation ?? 0;
  ctx.wake(nowMs + SYNC_PERIOD_MS);

  const ref = spec.scaleTargetRef ?? {};
  const minReplicas: number = spec.minReplicas ?? 1;
  const maxReplicas: number = spec.maxReplicas ?? 1;
  const status: Record<string, any> = { ...(hpa.status?.lastScaleTime ? { lastScaleTime: hpa.status.lastScaleTime } : {}), observedGeneration: m.generation ?? 1 };
  const conds: Cond[] = [];
  const finish = async () => {
    status.conditions = conds;
    const sig = (s: any) => JSON.stringify({ ...s, conditions: (s.conditions ?? []).map((c: Cond) => [c.type, c.status, c.reason, c.message]) });
    if (sig(status) === sig(hpa.status ?? {})) return;
    await reg.guaranteedUpdate(hpaRes, ns, m.name!, (cur) => {
      if (!cur || cur.metadata?.uid !== m.uid) throw new Error('hpa replaced');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      next.status = status;
      return next;
    }, { ...MANAGER, subresource: 'status' });
  };
  const kindRes = targetResource(reg, ref);
  const target = kindRes ? reg.cache.get(reg.keyFor(kindRes, ns, ref.name ?? ''))?.obj : undefined;
  if (!kindRes || !target) {
    const what = kindRes ? `${kindRes.group ? `${kindRes.resource}.${kindRes.group}` : kindRes.resource} "${ref.name}" not found` : `no matches for kind "${ref.kind}" in group "${String(ref.apiVersion ?? '').split('/')[0]}"`;
    const msg = `the HPA controller was unable to get the target's current scale: ${what}`;
    if (!prevConds.some((c) => c.type === 'AbleToScale' && c.reason === 'FailedGetScale')) await recordEvent(reg, nowMs, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', ...hpa }, 'Warning', 'FailedGetScale', what, COMPONENT);
    conds.push(setCond(prevConds, 'AbleToScale', 'False', 'FailedGetScale', msg, now));
    status.currentReplicas = hpa.status?.currentReplicas ?? 0;
    status.desiredReplicas = hpa.status?.desiredReplicas ?? 0;
    return finish();
  }
  const scalePaths = kindRes.custom?.scale;
  const current = Number(scalePaths ? readJsonPath(target, scalePaths.specReplicasPath) ?? 0 : target.spec?.replicas ?? 1);
  const statusReplicas = Number(scalePaths ? readJsonPath(target, scalePaths.statusReplicasPath) ?? 0 : target.status?.replicas ?? 0);
  let selector = scalePaths?.labelSelectorPath ? parseLabelSelector(String(readJsonPath(target, scalePaths.labelSelectorPath) ?? '')) : labelSelectorFromObject(target.spec?.selector);
  if (!selector && target.spec?.selector && typeof target.spec.selector === 'object') selector = Object.entries(target.spec.selector).map(([key, v]) => ({ key, op: '=', values: [String(v)] })) as any;
  status.currentReplicas = statusReplicas;

  let desired = current;
  let rescaleReason = '';
  let limited: { reason: string; message: string } = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  let stabilized = false;
  if (current === 0 && minReplicas !== 0) {
    desired = 0;
    conds.push(setCond(prevConds, 'AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', now));
    conds.push(setCond(prevConds, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now));
  } else if (current > maxReplicas) {
    desired = maxReplicas;
    rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
  } else if (current < minReplicas) {
    desired = minReplicas;
    rescaleReason = 'Current number of replicas below Spec.MinReplicas';
  } else {
    const metrics: any[] = spec.metrics?.length ? spec.metrics : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    const pods = reg.cache.list('pods', ns).map((e) => e.obj).filter((p) => selector && matchLabels(selector, p.metadata?.labels) && !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    let best: { replicas: number; metric: any } | undefined;
    let failure: { reason: string; message: string } | undefined;
    const currentMetrics: any[] = [];
    for (const metric of metrics) {
      const container = metric.type === 'ContainerResource' ? metric.containerResource?.container : undefined;
      const src = metric.type === 'Resource' ? metric.resource : metric.type === 'ContainerResource' ? metric.containerResource : undefined;
      if (!src) {
        const kind = metric.type === 'Pods' ? 'PodsMetric' : metric.type === 'Object' ? 'ObjectMetric' : metric.type === 'External' ? 'ExternalMetric' : 'Metric';
        failure ??= { reason: `FailedGet${kind}`, message: `the HPA was unable to compute the replica count: unable to get metric ${metric.pods?.metric?.name ?? metric.object?.metric?.name ?? metric.external?.metric?.name ?? ''}: no custom or external metrics API (custom.metrics.k8s.io, external.metrics.k8s.io) is served` };
        currentMetrics.push({ type: metric.type });
        continue;
      }
      const resource: string = src.name;
      const tgt = src.target ?? {};
      const scale = metricScale(resource);
      const samples: PodSample[] = pods.map((p) => {
        const ctrs: any[] = (p.spec?.containers ?? []).filter((c: any) => !container || c.name === container);
        let request: number | undefined = 0;
        for (const c of ctrs) {
          const q = c.resources?.requests?.[resource];
          if (q === undefined) request = undefined;
          else if (request !== undefined) request += parseQuantity(q) * scale;
        }
        const usage = podReports(p) ? ctrs.reduce((s, c) => s + (resource === 'cpu' ? containerUsage(p, c).milliCpu : containerUsage(p, c).bytes), 0) : undefined;
        const ready = p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
        return { name: p.metadata!.name!, ready, pending: (p.status?.phase ?? 'Pending') === 'Pending', usage, request, cpuUnready: cpuSampleUnready(p, nowMs) };
      });
      try {
        const t = tgt.type === 'Utilization' ? { utilization: tgt.averageUtilization ?? 80 } : { average: parseQuantity(tgt.averageValue ?? tgt.value ?? 0) * scale };
        const r = resourceReplicas(current, samples, resource, t);
        const cur = { ...(r.utilization !== undefined ? { averageUtilization: r.utilization } : {}), averageValue: formatValue(resource, r.average) };
        currentMetrics.push(metric.type === 'Resource' ? { type: 'Resource', resource: { name: resource, current: cur } } : { type: 'ContainerResource', containerResource: { name: resource, container, current: cur } });
        if (!best || r.replicas > best.replicas) best = { replicas: r.replicas, metric };
      } catch (e) {
        const what = tgt.type === 'Utilization' ? `${resource} utilization` : `${resource} usage`;
        failure ??= { reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: failed to get ${what}: ${(e as Error).message}` };
        currentMetrics.push(metric.type === 'Resource' ? { type: 'Resource', resource: { name: resource, current: {} } } : { type: 'ContainerResource', containerResource: { name: resource, container, current: {} } });
      }
    }
    status.currentMetrics = currentMetrics;
    conds.push(setCond(prevConds, 'AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', now));
    if (!best) {
      const f = failure ?? { reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count' };
      conds.push(setCond(prevConds, 'ScalingActive', 'False', f.reason, f.message, now));
      if (!prevConds.some((c) => c.type === 'ScalingActive' && c.reason === f.reason)) await recordEvent(reg, nowMs, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', ...hpa }, 'Warning', f.reason, f.message.replace('the HPA was unable to compute the replica count: ', ''), COMPONENT);
      status.desiredReplicas = hpa.status?.desiredReplicas ?? current;
      return finish();
    }
    conds.push(setCond(prevConds, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${describeMetric(best.metric)}`, now));
    const n = normalizeWithBehavior({ current, desired: best.replicas, min: minReplicas, max: maxReplicas, behavior: behaviorWithDefaults(spec.behavior), recommendations: st.recommendations, upEvents: st.upEvents, downEvents: st.downEvents, nowMs });
    // Keep only what the longest window/period can still use.
    const keepMs = Math.max(300, ...[spec.behavior?.scaleUp, spec.behavior?.scaleDown].flatMap((r: any) => [r?.stabilizationWindowSeconds ?? 0, ...(r?.policies ?? []).map((p: any) => p.periodSeconds ?? 0)])) * 1000;
    st.recommendations.splice(0, st.recommendations.length, ...st.recommendations.filter((r) => r.atMs > nowMs - keepMs));
    desired = n.replicas;
    limited = { reason: n.reason, message: n.message };
    stabilized = n.stabilized && desired !== best.replicas;
    if (desired > current) rescaleReason = `${describeMetric(best.metric)} above target`;
    else if (desired < current) rescaleReason = 'All metrics below target';
  }
  if (current !== 0 || minReplicas === 0) {
    conds.splice(0, conds.length, ...conds.filter((c) => c.type !== 'AbleToScale'));
    if (desired !== current) {
      try {
        await reg.guaranteedUpdate(kindRes, ns, ref.name, (cur) => {
          if (!cur) throw new Error('target gone');
          const next = structuredClone(cur);
          next.metadata!.resourceVersion = '';
          if (scalePaths) writeJsonPath(next, scalePaths.specReplicasPath, desired);
          else next.spec = { ...(next.spec ?? {}), replicas: desired };
          return next;
        }, { ...MANAGER, subresource: 'scale' });
        (desired > current ? st.upEvents : st.downEvents).push({ atMs: nowMs, change: Math.abs(desired - current) });
        const cutoff = nowMs - 3_600_000;
        st.upEvents.splice(0, st.upEvents.length, ...st.upEvents.filter((e) => e.atMs > cutoff));
        st.downEvents.splice(0, st.downEvents.length, ...st.downEvents.filter((e) => e.atMs > cutoff));
        status.lastScaleTime = now;
        await recordEvent(reg, nowMs, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', ...hpa }, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`, COMPONENT);
        conds.unshift(setCond(prevConds, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`, now));
      } catch (e) {
        conds.unshift(setCond(prevConds, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${(e as Error).message}`, now));
        desired = current;
      }
    } else if (stabilized) {
      conds.unshift(setCond(prevConds, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation', now));
    } else {
      conds.unshift(setCond(prevConds, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', now));
    }
    if (rescaleReason.startsWith('Current number')) {
      // Outside min/max no metric is computed: the previous ScalingActive condition stays (upstream leaves it).
      const prev = prevConds.find((c) => c.type === 'ScalingActive');
      if (prev) conds.push(prev);
      limited = desired === maxReplicas && rescaleReason.includes('above')
        ? { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' }
        : { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    }
    conds.push(setCond(prevConds, 'ScalingLimited', limited.reason === 'DesiredWithinRange' ? 'False' : 'True', limited.reason, limited.message, now));
  }
  status.desiredReplicas = desired;
  return finish();
}

/** syncHorizontalPodAutoscalers runs one pass over every HPA of the cluster. */
export async function syncHorizontalPodAutoscalers(ctx: ControllerContext): Promise<void> {
  const hpaRes = ctx.reg.scheme.get('autoscaling', 'v2', 'horizontalpodautoscalers');
  if (!hpaRes) return;
  const list = ctx.reg.cache.list('autoscaling/horizontalpodautoscalers', '');
  const live = new Set<string>();
  for (const e of list) {
    const h = e.obj;
    live.add(h.metadata!.uid!);
    if (h.metadata?.deletionTimestamp) continue;
    try {
      await syncHpa(ctx, hpaRes, h);
    } catch (err) {
      ctx.log.warn({ err, hpa: h.metadata?.name }, 'hpa sync failed');
    }
  }
  const m = states.get(ctx.reg);
  if (m) for (const uid of m.keys()) if (!live.has(uid)) m.delete(uid);
}

/** The HorizontalPodAutoscaler controller (see the module comment). */
export const HPA_CONTROLLER: WorkloadController = {
  name: 'horizontal-pod-autoscaler',
  resources: ['autoscaling/horizontalpodautoscalers'],
  sync: syncHorizontalPodAutoscalers,
};
