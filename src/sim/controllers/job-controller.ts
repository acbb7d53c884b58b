/**
 * The Job controller of kube-controller-manager (batch/v1 semantics), as one
 * pass over a cluster's watch cache, plus the TTL-after-finished controller.
 *
 * - Pods: created from the template with generateName `<job>-` (Indexed:
 *   `<job>-<index>-`, the `batch.kubernetes.io/job-completion-index`
 *   annotation and label, hostname `<job>-<index>`, JOB_COMPLETION_INDEX env),
 *   a controller ownerReference and the `batch.kubernetes.io/job-tracking`
 *   finalizer; up to `parallelism` at once, never more than the completions
 *   still missing.
 * - Accounting as upstream's trackJobStatusAndRemoveFinalizers: a finished
 *   pod still carrying the finalizer is first recorded in
 *   status.uncountedTerminatedPods, its finalizer removed, then moved into
 *   status.succeeded / status.failed (Indexed: status.completedIndexes), so
 *   a pod is never counted twice. Pods deleted before finishing count as
 *   failed (except while the Job is suspended).
 * - Failure: status.failed > backoffLimit (BackoffLimitExceeded), a
 *   podFailurePolicy FailJob rule (PodFailurePolicy; Ignore rules do not
 *   count a failure), activeDeadlineSeconds (DeadlineExceeded). Replacements
 *   of failed pods wait the pod failure back-off (10 s doubling, at most 6 min).
 * - Conditions: from Kubernetes 1.31 the interim FailureTarget /
 *   SuccessCriteriaMet condition comes first and Failed / Complete once no
 *   pod is active any more, as the served version does; Suspended
 *   (JobSuspended / JobResumed). startTime, completionTime, active, ready.
 * - suspend deletes active pods; resuming resets startTime.
 * - Nothing runs, so a pod whose template does not say how long it runs
 *   (sim.localeks.io/duration) gets DEFAULT_JOB_POD_DURATION of the timing
 *   profile: `kubectl create job` Jobs complete.
 * - TTL-after-finished: a finished Job with ttlSecondsAfterFinished is
 *   deleted (propagationPolicy Background) that long after it finished.
 *
 * - successPolicy (Indexed): the first matching rule ends the Job
 *   (SuccessCriteriaMet/Complete reason SuccessPolicy, "Matched rules at
 *   index N"), lingering pods are removed;
 * - events: SuccessfulCreate, SuccessfulDelete, Completed, the failure
 *   reason, Suspended, Resumed.
 *
 * - backoffLimitPerIndex (Indexed): an index whose pods failed more than
 *   that many times (or a FailIndex podFailurePolicy rule) goes into
 *   status.failedIndexes and is not retried; pods carry
 *   `batch.kubernetes.io/job-index-failure-count`; more failed indexes than
 *   maxFailedIndexes fails the Job (MaxFailedIndexesExceeded), otherwise it
 *   fails with FailedIndexes once every index succeeded or failed.
 *
 * - podReplacementPolicy Failed: no replacement while a pod is terminating.
 *
 * - restartPolicy OnFailure: the kubelet restarts a failed container in
 *   place, and the container restarts of the Job's running and pending pods
 *   count toward backoffLimit (BackoffLimitExceeded once they reach it).
 *
 * Not done: managedBy.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { Resource } from '../../kube/api/scheme.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import { isPodReady, podsToDelete } from '../../kube/controllers/deployment/rollout.ts';
import { ANNOTATION_DURATION } from '../kubelet/pod-status.ts';
import { recordEvent } from './object-events.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

/**
 * pastBackoffLimitOnFailure: for a Job whose pods restart OnFailure, the
 * container restarts (init containers included) of its Pending and Running
 * pods reach backoffLimit (any restart, with backoffLimit 0), as upstream's
 * job controller counts them.
 */
export function pastBackoffLimitOnFailure(job: KObject, pods: KObject[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    const phase = p.status?.phase;
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}
export const COMPLETION_INDEX_KEY = 'batch.kubernetes.io/job-completion-index';
export const INDEX_FAILURE_COUNT_KEY = 'batch.kubernetes.io/job-index-failure-count';
const MANAGER = { fieldManager: 'kube-controller-manager' };
/** Pod failure back-off: 10 s doubling, at most 6 minutes (DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff). */
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 360_000;

type Cond = { type: string; status: string; lastProbeTime: string; lastTransitionTime: string; reason?: string; message?: string };

function controllerUid(o: KObject): string | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller)?.uid;
}

/** jobFinished: the Job has a Complete or Failed condition that is True. */
export function jobFinished(job: KObject): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

/** backoffDelayMs: how long after the last failure the next pod may be created, given the failures so far. */
export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
}

/** formatIndexes writes a set of completion indexes as upstream's status.completedIndexes ("0-2,4"). */
export function formatIndexes(indexes: Iterable<number>): string {
  const s = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j === i ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** parseIndexes reads status.completedIndexes back into numbers. */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let k = a!; k <= (Number.isInteger(b) ? b! : a!); k++) out.add(k);
  }
  return out;
}

/** completionIndex of a pod of an Indexed Job (undefined when absent or invalid). */
export function completionIndex(pod: KObject): number | undefined {
  const v = pod.metadata?.annotations?.[COMPLETION_INDEX_KEY] ?? pod.metadata?.labels?.[COMPLETION_INDEX_KEY];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export interface PolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  message: string;
}

/** matchPodFailurePolicy: the first podFailurePolicy rule a failed pod matches (upstream's matchPodFailurePolicy). */
export function matchPodFailurePolicy(policy: any, pod: KObject): PolicyMatch | undefined {
  const rules: any[] = policy?.rules ?? [];
  const m = pod.metadata ?? {};
  const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const [i, rule] of rules.entries()) {
    const action = rule.action;
    const oe = rule.onExitCodes;
    if (oe) {
      for (const cs of statuses) {
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        if (oe.containerName && oe.containerName !== cs.name) continue;
        const inValues = (oe.values ?? []).includes(code);
        if ((oe.operator === 'In' && inValues) || (oe.operator === 'NotIn' && !inValues)) {
          return { action, message: `Container ${cs.name} for pod ${m.namespace}/${m.name} failed with exit code ${code} matching ${action} rule at index ${i}` };
        }
      }
    }
    for (const pat of rule.onPodConditions ?? []) {
      const want = pat.status ?? 'True';
      if ((pod.status?.conditions ?? []).some((c: any) => c.type === pat.type && c.status === want)) {
        return { action, message: `Pod ${m.namespace}/${m.name} has condition ${pat.type} matching ${action} rule at index ${i}` };
      }
    }
  }
  return undefined;
}

/**
 * matchSuccessPolicy: the index of the first successPolicy rule the
 * completed indexes satisfy (succeededIndexes and/or succeededCount), as
 * upstream's matchSuccessPolicy; undefined when none (or no policy).
 */
export function matchSuccessPolicy(policy: any, completed: Set<number>): number | undefined {
  for (const [i, rule] of ((policy?.rules ?? []) as any[]).entries()) {
    if (rule.succeededIndexes !== undefined) {
      const want = parseIndexes(rule.succeededIndexes);
      let n = 0;
      for (const x of want) if (completed.has(x)) n++;
      if (rule.succeededCount !== undefined ? n >= rule.succeededCount : n === want.size && want.size > 0) return i;
    } else if (rule.succeededCount !== undefined && completed.size >= rule.succeededCount) return i;
  }
  return undefined;
}

/** True when the version (e.g. "1.31") delays Complete/Failed behind SuccessCriteriaMet/FailureTarget. */
export function delaysTerminalCondition(kubernetesVersion: string): boolean {
  const minor = Number(kubernetesVersion.split('.')[1] ?? 0);
  return minor >= 31;
}

function setCond(conds: Cond[], type: string, status: string, reason: string, message: string, now: string): Cond[] {
  const prev = conds.find((c) => c.type === type);
  if (prev && prev.status === status && prev.reason === reason && prev.message === message) return conds;
  const next: Cond = { type, status, lastProbeTime: now, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now, reason, message };
  return prev ? conds.map((c) => (c === prev ? next : c)) : [...conds, next];
}

const isTerminalPod = (p: KObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

function hasFinalizer(p: KObject): boolean {
  return (p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

async function removeFinalizer(reg: ClusterRegistry, podsRes: Resource, pod: KObject): Promise<void> {
  const m = pod.metadata!;
  await reg.guaranteedUpdate(podsRes, m.namespace!, m.name!, (cur) => {
    if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
    const next = structuredClone(cur);
    next.metadata!.resourceVersion = '';
    const f = (next.metadata!.finalizers ?? []).filter((x: string) => x !== JOB_TRACKING_FINALIZER);
    if (f.length > 0) next.metadata!.finalizers = f;
    else delete next.metadata!.finalizers;
    return next;
  }, MANAGER);
}

function finishedAtMs(p: KObject): number {
  let t = 0;
  for (const cs of p.status?.containerStatuses ?? []) t = Math.max(t, Date.parse(cs.state?.terminated?.finishedAt ?? '') || 0);
  return t || Date.parse(p.metadata?.deletionTimestamp ?? '') || 0;
}

/** How long a Job's pod runs when its template has no sim.localeks.io/duration annotation, per timing profile. */
export const DEFAULT_JOB_POD_DURATION: Record<string, string> = { instant: '0s', fast: '1s', realistic: '10s' };

function podFor(job: KObject, index: number | undefined, profile: string, failures?: number): KObject {
  const m = job.metadata!;
  const t = structuredClone(job.spec?.template ?? {});
  const labels: Record<string, string> = { ...(t.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(t.metadata?.annotations ?? {}) };
  annotations[ANNOTATION_DURATION] ??= DEFAULT_JOB_POD_DURATION[profile] ?? '1s';
  const spec = t.spec ?? {};
  if (index !== undefined) {
    labels[COMPLETION_INDEX_KEY] = String(index);
    if (failures !== undefined) annotations[INDEX_FAILURE_COUNT_KEY] = String(failures);
    annotations[COMPLETION_INDEX_KEY] = String(index);
    spec.hostname ??= `${m.name}-${index}`;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const env: any[] = c.env ?? [];
      if (!env.some((e) => e.name === 'JOB_COMPLETION_INDEX')) {
        c.env = [...env, { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.labels['${COMPLETION_INDEX_KEY}']` } } }];
      }
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index !== undefined ? `${m.name}-${index}-` : `${m.name}-`,
      namespace: m.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      finalizers: [JOB_TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/** Whether the last pass saw pods owned by Jobs (per cluster registry). */
const hadJobPods = new WeakMap<ClusterRegistry, boolean>();

/** syncJobs runs one reconcile of every Job of the cluster. */
export async function syncJobs(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const jobRes = reg.scheme.get('batch', 'v1', 'jobs');
  const podsRes = reg.scheme.get('', 'v1', 'pods');
  if (!jobRes || !podsRes) return;
  const jobs = reg.cache.list('batch/jobs', '');
  // Without Jobs, pods are scanned only while Job pods (orphans with the finalizer) may remain.
  if (jobs.length === 0 && !(hadJobPods.get(reg) ?? true)) return;
  const byUid = new Map(jobs.map((e) => [e.obj.metadata!.uid!, e.obj]));
  const owned = new Map<string, KObject[]>();
  const orphans: KObject[] = [];
  for (const e of reg.cache.list('pods', '')) {
    const p = e.obj;
    const uid = controllerUid(p);
    if (!uid) continue;
    const isJobPod = (p.metadata?.ownerReferences ?? []).some((r) => r.controller && r.kind === 'Job');
    if (!isJobPod) continue;
    if (!byUid.has(uid)) {
      if (hasFinalizer(p)) orphans.push(p);
      continue;
    }
    const l = owned.get(uid) ?? [];
    l.push(p);
    owned.set(uid, l);
  }
  hadJobPods.set(reg, owned.size > 0 || orphans.length > 0);
  // Pods of Jobs that are gone keep no tracking finalizer.
  await Promise.all(orphans.map((p) => removeFinalizer(reg, podsRes, p).catch(() => {})));
  for (const e of jobs) {
    try {
      await syncJob(ctx, jobRes, podsRes, e.obj, owned.get(e.obj.metadata!.uid!) ?? []);
    } catch (err) {
      ctx.log.warn({ err, job: e.obj.metadata?.name }, 'job sync failed');
    }
  }
}

async function syncJob(ctx: ControllerContext, jobRes: Resource, podsRes: Resource, job: KObject, pods: KObject[]): Promise<void> {
  const { reg } = ctx;
  const m = job.metadata!;
  const ns = m.namespace!;
  const spec = job.spec ?? {};
  const nowMs = ctx.nowMs;
  const now = timestamp(new Date(nowMs));
  const indexed = spec.completionMode === 'Indexed';
  const suspended = !!spec.suspend;
  const delay = delaysTerminalCondition(ctx.info.kubernetesVersion);
  const st0 = job.status ?? {};
  const finished = jobFinished(job);
  if (m.deletionTimestamp) {
    // Being deleted (foreground): nothing more to run or count.
    await Promise.all(pods.filter(hasFinalizer).map((p) => removeFinalizer(reg, podsRes, p).catch(() => {})));
    return;
  }
  const succeeding = (st0.conditions ?? []).some((c: any) => (c.type === 'SuccessCriteriaMet' || c.type === 'Complete') && c.status === 'True');

  // 1. Accounting of finished pods (uncountedTerminatedPods, then finalizers, then counts).
  const uncounted = { succeeded: new Set<string>(st0.uncountedTerminatedPods?.succeeded ?? []), failed: new Set<string>(st0.uncountedTerminatedPods?.failed ?? []) };
  let policyFail: string | undefined;
  let newFailures = 0;
  let lastFailureMs = 0;
  const completed = parseIndexes(st0.completedIndexes);
  // backoffLimitPerIndex: failures counted per index (failed pods of the index), failed indexes kept in status.
  const perIndex: number | undefined = indexed && spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? spec.backoffLimitPerIndex : undefined;
  const failedIdx = parseIndexes(st0.failedIndexes);
  const indexFailures = new Map<number, number>();
  for (const p of pods) {
    const i = completionIndex(p);
    if (i !== undefined && p.status?.phase === 'Failed') indexFailures.set(i, (indexFailures.get(i) ?? 0) + 1);
  }
  for (const p of pods) {
    const uid = p.metadata!.uid!;
    if (!hasFinalizer(p) || uncounted.succeeded.has(uid) || uncounted.failed.has(uid)) continue;
    const phase = p.status?.phase;
    if (phase === 'Succeeded') uncounted.succeeded.add(uid);
    else if (phase === 'Failed' || (p.metadata?.deletionTimestamp && !suspended && !succeeding)) {
      const match = spec.podFailurePolicy && spec.template?.spec?.restartPolicy === 'Never' ? matchPodFailurePolicy(spec.podFailurePolicy, p) : undefined;
      if (match?.action === 'Ignore') {
        // Not a failure: drop the finalizer without counting.
        await removeFinalizer(reg, podsRes, p).catch(() => {});
        continue;
      }
      if (match?.action === 'FailJob') policyFail ??= match.message;
      if (perIndex !== undefined) {
        const i = completionIndex(p);
        if (i !== undefined && (match?.action === 'FailIndex' || (indexFailures.get(i) ?? 1) > perIndex)) failedIdx.add(i);
      }
      uncounted.failed.add(uid);
      newFailures++;
      lastFailureMs = Math.max(lastFailureMs, finishedAtMs(p));
    } else if (p.metadata?.deletionTimestamp) {
      await removeFinalizer(reg, podsRes, p).catch(() => {});
    }
  }
  const sameSet = (a: Set<string>, b: string[] | undefined) => a.size === (b ?? []).length;
  if (!sameSet(uncounted.succeeded, st0.uncountedTerminatedPods?.succeeded) || !sameSet(uncounted.failed, st0.uncountedTerminatedPods?.failed)) {
    await writeStatus(reg, jobRes, job, { ...st0, uncountedTerminatedPods: { ...(uncounted.succeeded.size ? { succeeded: [...uncounted.succeeded] } : {}), ...(uncounted.failed.size ? { failed: [...uncounted.failed] } : {}) } });
  }
  const podByUid = new Map(pods.map((p) => [p.metadata!.uid!, p]));
  let succeeded: number = st0.succeeded ?? 0;
  let failed: number = st0.failed ?? 0;
  for (const kind of ['succeeded', 'failed'] as const) {
    for (const uid of [...uncounted[kind]]) {
      const p = podByUid.get(uid);
      if (p && hasFinalizer(p)) {
        try {
          await removeFinalizer(reg, podsRes, p);
        } catch {
          continue; // counted on a later pass
        }
      }
      uncounted[kind].delete(uid);
      if (kind === 'failed') failed++;
      else {
        const idx = p ? completionIndex(p) : undefined;
        if (indexed) {
          if (idx !== undefined && idx < (spec.completions ?? 0)) completed.add(idx);
        } else succeeded++;
      }
    }
  }
  if (indexed) succeeded = completed.size;

  // 2. What the Job should be doing now.
  const active = pods.filter((p) => !isTerminalPod(p) && !p.metadata?.deletionTimestamp);
  let conds: Cond[] = structuredClone(st0.conditions ?? []);
  let startTime: string | undefined = st0.startTime;
  let completionTime: string | undefined = st0.completionTime;
  const completions: number | undefined = spec.completions ?? undefined;
  const parallelism: number = spec.parallelism ?? 1;
  const deletes: KObject[] = [];
  const creates: Array<number | undefined> = [];

  if (!finished) {
    if (!suspended && !startTime) startTime = now;
    const wasSuspended = conds.some((c) => c.type === 'Suspended' && c.status === 'True');
    if (suspended) {
      conds = setCond(conds, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now);
    } else if (wasSuspended) {
      conds = setCond(conds, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
      startTime = now;
    }
    let failure: { reason: string; message: string } | undefined;
    const target = conds.find((c) => c.type === 'FailureTarget' && c.status === 'True');
    if (target) failure = { reason: target.reason!, message: target.message! };
    else if (policyFail) failure = { reason: 'PodFailurePolicy', message: policyFail };
    else if (failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (perIndex !== undefined && spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes !== null && failedIdx.size > spec.maxFailedIndexes) {
      failure = { reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' };
    } else if (perIndex !== undefined && failedIdx.size > 0 && completed.size + failedIdx.size >= (completions ?? 0) && active.length === 0) {
      failure = { reason: 'FailedIndexes', message: 'Job has failed indexes' };
    }
    else if (spec.activeDeadlineSeconds !== undefined && startTime && !suspended) {
      const due = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000;
      if (due <= nowMs) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      else ctx.wake(due);
    }
    const met = conds.find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
    const policy = !failure && !met && indexed ? matchSuccessPolicy(spec.successPolicy, completed) : undefined;
    const success = met
      ? { reason: met.reason!, message: met.message! }
      : policy !== undefined
        ? { reason: 'SuccessPolicy', message: `Matched rules at index ${policy}` }
        : { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    const complete =
      !failure &&
      (!!met || policy !== undefined ||
        (completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions));
    if (failure) {
      deletes.push(...active);
      if (delay) conds = setCond(conds, 'FailureTarget', 'True', failure.reason, failure.message, now);
      if (!delay || active.length === 0) conds = setCond(conds, 'Failed', 'True', failure.reason, failure.message, now);
    } else if (complete) {
      deletes.push(...active);
      if (delay || success.reason === 'SuccessPolicy') conds = setCond(conds, 'SuccessCriteriaMet', 'True', success.reason, success.message, now);
      if (!delay || active.length === 0) {
        conds = setCond(conds, 'Complete', 'True', success.reason, success.message, now);
        completionTime = now;
      }
    } else if (suspended) {
      deletes.push(...active);
    } else {
      // Pods to run: at most parallelism, never more than the completions still missing.
      let want = parallelism;
      if (completions !== undefined) want = Math.min(parallelism, Math.max(0, completions - succeeded - (perIndex !== undefined ? failedIdx.size : 0)));
      else if (succeeded > 0) want = Math.min(want, active.length);
      if (active.length > want) deletes.push(...podsToDelete(active, active.length - want));
      else if (active.length < want && spec.podReplacementPolicy === 'Failed' && pods.some((p) => p.metadata?.deletionTimestamp && !isTerminalPod(p))) {
        // podReplacementPolicy Failed: replacements wait until terminating pods are gone.
      } else if (active.length < want) {
        const readyAt = lastFailureMs > 0 && newFailures > 0 ? lastFailureMs + backoffDelayMs(failed) : lastFailurePending(st0, pods, failed);
        if (readyAt > nowMs) ctx.wake(readyAt);
        else if (indexed) {
          const busy = new Set(active.map(completionIndex));
          for (let i = 0; i < (completions ?? 0) && creates.length < want - active.length; i++) if (!completed.has(i) && !busy.has(i) && !failedIdx.has(i)) creates.push(i);
        } else for (let k = active.length; k < want; k++) creates.push(undefined);
      }
    }
  } else {
    deletes.push(...active);
  }

  const ev = (type: 'Normal' | 'Warning', reason: string, message: string) => recordEvent(reg, nowMs, { apiVersion: 'batch/v1', kind: 'Job', ...job }, type, reason, message, 'job-controller');
  for (const p of deletes) {
    await reg
      .delete(podsRes, ns, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } })
      .then(() => ev('Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`))
      .catch(() => {});
  }
  await Promise.all(
    creates.map((idx) =>
      reg
        .create(podsRes, ns, podFor(job, idx, ctx.deps.config.timingProfile, perIndex !== undefined && idx !== undefined ? indexFailures.get(idx) ?? 0 : undefined), MANAGER)
        .then((p) => ev('Normal', 'SuccessfulCreate', `Created pod: ${p.metadata!.name}`))
        .catch((err) => ctx.log.warn({ err, job: m.name }, 'job: pod create failed')),
    ),
  );
  // Events for condition changes (as upstream records them).
  const was = (t: string) => (st0.conditions ?? []).some((c: any) => c.type === t && c.status === 'True');
  const is = (t: string) => conds.find((c) => c.type === t && c.status === 'True');
  if (is('Complete') && !was('Complete')) await ev('Normal', 'Completed', 'Job completed');
  const f = is('Failed');
  if (f && !was('Failed')) await ev('Warning', f.reason!, f.message!);
  if (is('Suspended') && !was('Suspended')) await ev('Normal', 'Suspended', 'Job suspended');
  if (!is('Suspended') && was('Suspended')) await ev('Normal', 'Resumed', 'Job resumed');

  // 3. Status.
  const stillActive = active.filter((p) => !deletes.includes(p));
  const status: Record<string, any> = {
    ...(conds.length ? { conditions: conds } : {}),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    ...(stillActive.length + creates.length > 0 ? { active: stillActive.length + creates.length } : {}),
    ...(succeeded > 0 ? { succeeded } : {}),
    ...(failed > 0 ? { failed } : {}),
    ...(indexed && completed.size ? { completedIndexes: formatIndexes(completed) } : {}),
    ...(perIndex !== undefined ? { failedIndexes: formatIndexes(failedIdx) } : {}),
    terminating: pods.filter((p) => p.metadata?.deletionTimestamp && !isTerminalPod(p)).length + deletes.length,
    uncountedTerminatedPods: { ...(uncounted.succeeded.size ? { succeeded: [...uncounted.succeeded] } : {}), ...(uncounted.failed.size ? { failed: [...uncounted.failed] } : {}) },
    ready: stillActive.filter(isPodReady).length,
  };
  if (JSON.stringify(canon(status)) !== JSON.stringify(canon(job.status ?? {}))) await writeStatus(reg, jobRes, job, status);
}

/** The back-off still running from an earlier pass: the newest failed pod's finish + the delay for `failed` failures. */
function lastFailurePending(st: any, pods: KObject[], failed: number): number {
  if (failed === 0) return 0;
  let last = 0;
  for (const p of pods) if (p.status?.phase === 'Failed') last = Math.max(last, finishedAtMs(p));
  void st;
  return last ? last + backoffDelayMs(failed) : 0;
}

function canon(s: any): any {
  const o = { ...s };
  o.conditions = (s.conditions ?? []).map((c: any) => [c.type, c.status, c.reason, c.message]);
  return Object.keys(o).sort().map((k) => [k, o[k]]);
}

async function writeStatus(reg: ClusterRegistry, jobRes: Resource, job: KObject, status: Record<string, any>): Promise<void> {
  const m = job.metadata!;
  await reg.guaranteedUpdate(jobRes, m.namespace!, m.name!, (cur) => {
    if (!cur || cur.metadata?.uid !== m.uid) throw new Error('job replaced');
    const next = structuredClone(cur);
    next.metadata!.resourceVersion = '';
    next.status = status;
    return next;
  }, { ...MANAGER, subresource: 'status' });
  job.status = status;
}

/** ttlExpiry: when a finished Job with ttlSecondsAfterFinished may be deleted (undefined: never). */
export function ttlExpiry(job: KObject): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const kind = jobFinished(job);
  if (ttl === undefined || ttl === null || !kind) return undefined;
  const c = (job.status?.conditions ?? []).find((x: any) => x.type === kind && x.status === 'True');
  const at = Date.parse(job.status?.completionTime ?? c?.lastTransitionTime ?? '');
  return Number.isFinite(at) ? at + ttl * 1000 : undefined;
}

/** The Job controller (see the module comment). */
export const JOB_CONTROLLER: WorkloadController = {
  name: 'job',
  resources: ['batch/jobs', 'pods'],
  sync: syncJobs,
};

/** The TTL-after-finished controller: deletes finished Jobs ttlSecondsAfterFinished after they finished. */
export const TTL_AFTER_FINISHED_CONTROLLER: WorkloadController = {
  name: 'ttl-after-finished',
  resources: ['batch/jobs'],
  async sync(ctx) {
    const jobRes = ctx.reg.scheme.get('batch', 'v1', 'jobs');
    if (!jobRes) return;
    for (const e of ctx.reg.cache.list('batch/jobs', '')) {
      const j = e.obj;
      if (j.metadata?.deletionTimestamp) continue;
      const at = ttlExpiry(j);
      if (at === undefined) continue;
      if (at > ctx.nowMs) {
        ctx.wake(at);
        continue;
      }
      await ctx.reg
        .delete(jobRes, j.metadata!.namespace!, j.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: j.metadata!.uid } })
        .catch((err) => ctx.log.warn({ err, job: j.metadata?.name }, 'ttl-after-finished: delete failed'));
    }
  },
};
