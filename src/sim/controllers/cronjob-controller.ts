/**
 * The CronJob controller (cronjob_controllerv2) as one pass over a cluster's
 * watch cache, on the simulated clock:
 *
 * - the schedule (cron-schedule.ts) is evaluated in spec.timeZone (UTC
 *   otherwise); the most recent activation after status.lastScheduleTime (or
 *   the CronJob's creation, or now - startingDeadlineSeconds) and not after
 *   now gets a Job `<cronjob>-<minutes since the epoch>` from jobTemplate,
 *   with a controller ownerReference and the
 *   `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation;
 *   activations older than startingDeadlineSeconds are missed (MissSchedule
 *   event); the loop wakes itself at the next activation (one clock timer for
 *   the whole data plane, never one per CronJob);
 * - concurrencyPolicy: Allow; Forbid skips while a Job is active (JobAlreadyActive);
 *   Replace deletes the active Jobs (Background) first;
 * - suspend stops new Jobs; status.active lists unfinished owned Jobs,
 *   lastScheduleTime and lastSuccessfulTime as upstream;
 * - finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit
 *   are deleted, oldest first (Background);
 * - events SuccessfulCreate, SawCompletedJob, SuccessfulDelete,
 *   MissSchedule, TooManyMissedTimes, UnparseableSchedule, UnknownTimeZone.
 *
 * `kubectl create job --from=cronjob/x` is client-side: its Job carries the
 * cronjob.kubernetes.io/instantiate=manual annotation and runs like any other.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { Resource } from '../../kube/api/scheme.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import { CronError, mostRecentTime, parseCronSchedule } from './cron-schedule.ts';
import { jobFinished } from './job-controller.ts';
import { recordEvent } from './object-events.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

const MANAGER = { fieldManager: 'kube-controller-manager' };
const COMPONENT = 'cronjob-controller';
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** The name of the Job for an activation: `<cronjob>-<minutes since the epoch>` (getJobName). */
export function jobNameFor(cronJob: string, scheduledMs: number): string {
  return `${cronJob}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 of an instant on the wall clock of a zone (for the scheduled-timestamp annotation). */
export function rfc3339In(ms: number, tz: string | undefined): string {
  if (!tz || tz === 'UTC' || tz === 'Etc/UTC') return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute), Number(parts.second));
  const off = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const hhmm = `${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${String(Number(parts.hour) % 24).padStart(2, '0')}:${parts.minute}:${parts.second}${off === 0 ? 'Z' : sign + hhmm}`;
}

function event(reg: ClusterRegistry, nowMs: number, obj: KObject, type: string, reason: string, message: string): Promise<void> {
  return recordEvent(reg, nowMs, { apiVersion: 'batch/v1', kind: 'CronJob', ...obj }, type as 'Normal' | 'Warning', reason, message, COMPONENT);
}

function ownerUid(o: KObject): string | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller && r.kind === 'CronJob')?.uid;
}

const ref = (j: KObject) => ({ kind: 'Job', namespace: j.metadata!.namespace, name: j.metadata!.name, uid: j.metadata!.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata!.resourceVersion });

/** syncCronJobs runs one reconcile of every CronJob of the cluster. */
export async function syncCronJobs(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const cjRes = reg.scheme.get('batch', 'v1', 'cronjobs');
  const jobRes = reg.scheme.get('batch', 'v1', 'jobs');
  if (!cjRes || !jobRes) return;
  const cronJobs = reg.cache.list('batch/cronjobs', '');
  if (cronJobs.length === 0) return;
  const owned = new Map<string, KObject[]>();
  for (const e of reg.cache.list('batch/jobs', '')) {
    const uid = ownerUid(e.obj);
    if (!uid) continue;
    const l = owned.get(uid) ?? [];
    l.push(e.obj);
    owned.set(uid, l);
  }
  for (const e of cronJobs) {
    try {
      await syncCronJob(ctx, cjRes, jobRes, e.obj, owned.get(e.obj.metadata!.uid!) ?? []);
    } catch (err) {
      ctx.log.warn({ err, cronjob: e.obj.metadata?.name }, 'cronjob sync failed');
    }
  }
}

async function syncCronJob(ctx: ControllerContext, cjRes: Resource, jobRes: Resource, cj: KObject, jobs: KObject[]): Promise<void> {
  const { reg, nowMs } = ctx;
  const m = cj.metadata!;
  const ns = m.namespace!;
  const spec = cj.spec ?? {};
  const st0 = cj.status ?? {};
  let lastScheduleTime: string | undefined = st0.lastScheduleTime;
  let lastSuccessfulTime: string | undefined = st0.lastSuccessfulTime;
  const live = jobs.filter((j) => !j.metadata?.deletionTimestamp);
  let active = live.filter((j) => !jobFinished(j));
  const prevActive = new Set((st0.active ?? []).map((r: any) => r.uid));

  // Jobs that finished since the last pass.
  for (const j of live) {
    const f = jobFinished(j);
    if (!f || !prevActive.has(j.metadata!.uid)) continue;
    await event(reg, nowMs, cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata!.name}, condition: ${f}`);
  }
  for (const j of live) {
    if (jobFinished(j) !== 'Complete' || !j.status?.completionTime) continue;
    if (!lastSuccessfulTime || Date.parse(j.status.completionTime) > Date.parse(lastSuccessfulTime)) lastSuccessfulTime = j.status.completionTime;
  }

  if (!m.deletionTimestamp) {
    const tz: string | undefined = spec.timeZone ?? undefined;
    let sched;
    try {
      sched = parseCronSchedule(String(spec.schedule ?? ''), tz);
    } catch (e) {
      const msg = (e as Error).message;
      if (e instanceof CronError && msg.startsWith('unknown time zone')) await noteOnce(ctx, cj, 'UnknownTimeZone', `invalid timeZone: "${tz}": ${msg}`);
      else await noteOnce(ctx, cj, 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${msg}`);
    }
    if (sched && !spec.suspend) {
      let earliest = Date.parse(lastScheduleTime ?? m.creationTimestamp ?? '') || nowMs;
      const sds: number | undefined = spec.startingDeadlineSeconds ?? undefined;
      if (sds !== undefined && sds !== null) earliest = Math.max(earliest, nowMs - sds * 1000);
      const recent = mostRecentTime(sched, earliest, nowMs);
      if (recent.tooMany) await event(reg, nowMs, cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      const next = sched.next(nowMs);
      if (next !== undefined) ctx.wake(next);
      const t = recent.time;
      if (t !== undefined) {
        const name = jobNameFor(m.name!, t);
        const exists = jobs.some((j) => j.metadata!.name === name);
        if (sds !== undefined && sds !== null && t + sds * 1000 < nowMs) {
          await event(reg, nowMs, cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339In(t, tz)}`);
        } else if (exists) {
          lastScheduleTime = timestamp(new Date(t));
        } else if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
          await noteOnce(ctx, cj, 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', 'Normal');
        } else {
          if (spec.concurrencyPolicy === 'Replace') {
            for (const j of active) {
              await reg.delete(jobRes, ns, j.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: j.metadata!.uid } }).catch(() => {});
              await event(reg, nowMs, cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
            }
            active = [];
          }
          const tpl = structuredClone(spec.jobTemplate ?? {});
          const job: KObject = {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name,
              namespace: ns,
              labels: { ...(tpl.metadata?.labels ?? {}) },
              annotations: { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(t, tz) },
              ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: tpl.spec ?? {},
          };
          try {
            const created = await reg.create(jobRes, ns, job, MANAGER);
            active.push(created);
            lastScheduleTime = timestamp(new Date(t));
            await event(reg, nowMs, cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
          } catch (err) {
            await event(reg, nowMs, cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
          }
        }
      }
    }
    // History limits: finished Jobs beyond them go, oldest first.
    const byStart = (a: KObject, b: KObject) => (Date.parse(a.status?.startTime ?? a.metadata!.creationTimestamp ?? '') || 0) - (Date.parse(b.status?.startTime ?? b.metadata!.creationTimestamp ?? '') || 0);
    for (const [kind, limit] of [['Complete', spec.successfulJobsHistoryLimit], ['Failed', spec.failedJobsHistoryLimit]] as const) {
      if (limit === undefined || limit === null) continue;
      const done = live.filter((j) => jobFinished(j) === kind).sort(byStart);
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        try {
          await reg.delete(jobRes, ns, j.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: j.metadata!.uid } });
          await event(reg, nowMs, cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
        } catch {
          /* gone already */
        }
      }
    }
  }

  const status: Record<string, any> = {
    ...(active.length ? { active: active.map(ref).sort((a, b) => String(a.name).localeCompare(String(b.name))) } : {}),
    ...(lastScheduleTime ? { lastScheduleTime } : {}),
    ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}),
  };
  const sig = (s: any) => JSON.stringify([(s.active ?? []).map((r: any) => r.uid), s.lastScheduleTime, s.lastSuccessfulTime]);
  if (sig(status) === sig(st0)) return;
  await reg.guaranteedUpdate(cjRes, ns, m.name!, (cur) => {
    if (!cur || cur.metadata?.uid !== m.uid) throw new Error('cronjob replaced');
    const next = structuredClone(cur);
    next.metadata!.resourceVersion = '';
    next.status = status;
    return next;
  }, { ...MANAGER, subresource: 'status' });
}

/** Events the controller would repeat on every sync: recorded once per CronJob generation and reason. */
const noted = new WeakMap<ClusterRegistry, Map<string, string>>();
async function noteOnce(ctx: ControllerContext, cj: KObject, reason: string, message: string, type = 'Warning'): Promise<void> {
  let m = noted.get(ctx.reg);
  if (!m) noted.set(ctx.reg, (m = new Map()));
  const key = `${cj.metadata!.uid}/${reason}`;
  const sig = `${cj.metadata!.generation}/${message}/${(cj.status?.active ?? []).map((r: any) => r.uid).join(',')}`;
  if (m.get(key) === sig) return;
  m.set(key, sig);
  await event(ctx.reg, ctx.nowMs, cj, type, reason, message);
}

/** The CronJob controller (see the module comment). */
export const CRONJOB_CONTROLLER: WorkloadController = {
  name: 'cronjob',
  resources: ['batch/cronjobs', 'batch/jobs'],
  sync: syncCronJobs,
};
