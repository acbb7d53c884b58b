/**
 * Jobs and CronJobs end to end with the aws CLI and kubectl (2 m5.large):
 *  - `kubectl create job` completes; `kubectl wait --for=condition=complete`
 *    returns; status succeeded/startTime/completionTime and the
 *    SuccessCriteriaMet + Complete conditions; pods lose the job-tracking
 *    finalizer;
 *  - completions 3 / parallelism 2 never runs more than 2 pods at once;
 *  - Indexed completion: one pod per index with the completion index
 *    annotation and label, completedIndexes "0-2";
 *  - failing pods retry with back-off until backoffLimit, then Failed
 *    BackoffLimitExceeded; with restartPolicy OnFailure the container
 *    restarts in place and its restarts count toward backoffLimit; a podFailurePolicy FailJob rule fails at once;
 *  - activeDeadlineSeconds fails the Job (DeadlineExceeded) and removes its pods;
 *  - suspend keeps pods away; resuming runs them;
 *  - ttlSecondsAfterFinished deletes the finished Job and its pods;
 *  - CronJobs: advancing the simulated clock creates the Job named
 *    `<cronjob>-<minutes>` at the scheduled minute (in spec.timeZone);
 *    Forbid skips while one runs, Replace replaces it; suspend; history
 *    limits; lastScheduleTime/lastSuccessfulTime/active;
 *    `kubectl create job --from=cronjob/x`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;

function job(name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}, podSpec: Record<string, unknown> = {}) {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }], ...podSpec } },
    },
  });
}

async function create(body: string): Promise<void> {
  const r = await dp.kubectl(['create', '-f', '-'], body);
  assert.equal(r.code, 0, r.stderr);
}

const cond = (j: any, type: string) => (j.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');
const jobPods = async (name: string) => (await dp.kubectlJson(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${name}`])).items;

before(async () => {
  dp = await startDataPlaneCluster({ name: 'jobs', cidr: '10.71', nodes: 2 });
});
after(async () => {
  await dp?.stop();
});

describe('workloads: Jobs with kubectl', () => {

  it('kubectl create job completes and kubectl wait --for=condition=complete returns', async () => {
    const c = await dp.kubectl(['create', 'job', 'hello', '--image=busybox', '--', 'echo', 'hi']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /job.batch\/hello created/);
    const w = await dp.kubectl(['wait', '--for=condition=complete', 'job/hello', '--timeout=60s']);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /job.batch\/hello condition met/);
    const j = await dp.kubectlJson(['get', 'job', 'hello']);
    assert.equal(j.status.succeeded, 1);
    assert.ok(j.status.startTime && j.status.completionTime);
    assert.equal(cond(j, 'Complete').reason, 'CompletionsReached');
    assert.ok(cond(j, 'SuccessCriteriaMet'), 'the 1.31+ interim condition');
    assert.deepEqual(j.status.uncountedTerminatedPods, {});
    const pods = await jobPods('hello');
    assert.equal(pods.length, 1);
    assert.equal(pods[0].status.phase, 'Succeeded');
    assert.deepEqual(pods[0].metadata.finalizers ?? [], []);
    assert.equal(pods[0].metadata.ownerReferences[0].kind, 'Job');
    const table = await dp.kubectl(['get', 'job', 'hello']);
    assert.match(table.stdout, /hello\s+(Complete\s+)?1\/1/, table.stdout);
  });

  it('completions 3 with parallelism 2 runs at most 2 pods at once and succeeds 3 times', async () => {
    await create(job('batch3', { completions: 3, parallelism: 2 }, { 'sim.localeks.io/duration': '2s' }));
    let maxActive = 0;
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'batch3']);
      maxActive = Math.max(maxActive, o.status?.active ?? 0);
      return cond(o, 'Complete') ? o : undefined;
    }, { what: 'batch3 Complete', intervalMs: 200 });
    assert.equal(j.status.succeeded, 3);
    assert.ok(maxActive <= 2, `active ${maxActive}`);
    assert.equal((await jobPods('batch3')).length, 3);
  });

  it('Indexed completion mode gives each pod its completion index', async () => {
    await create(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'idx']);
      return cond(o, 'Complete') ? o : undefined;
    }, { what: 'idx Complete' });
    assert.equal(j.status.completedIndexes, '0-2');
    assert.equal(j.status.succeeded, 3);
    const pods = await jobPods('idx');
    const idx = pods.map((p: any) => p.metadata.annotations['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(idx, ['0', '1', '2']);
    for (const p of pods) {
      const i = p.metadata.labels['batch.kubernetes.io/job-completion-index'];
      assert.ok(p.metadata.name.startsWith(`idx-${i}-`), p.metadata.name);
      assert.equal(p.spec.hostname, `idx-${i}`);
    }
  });

  it('an Indexed Job with a successPolicy completes once the rule matches', async () => {
    await create(job('lead', { completions: 5, parallelism: 2, completionMode: 'Indexed', successPolicy: { rules: [{ succeededCount: 2 }] } }));
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'lead']);
      return cond(o, 'Complete') ? o : undefined;
    }, { what: 'lead Complete' });
    assert.equal(cond(j, 'Complete').reason, 'SuccessPolicy');
    assert.equal(cond(j, 'Complete').message, 'Matched rules at index 0');
    assert.equal(cond(j, 'SuccessCriteriaMet').reason, 'SuccessPolicy');
    assert.ok(j.status.succeeded >= 2 && j.status.succeeded < 5, `succeeded ${j.status.succeeded}`);
    const evs = (await dp.kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=lead'])).items.map((e: any) => e.reason);
    assert.ok(evs.includes('SuccessfulCreate') && evs.includes('Completed'), evs.join(','));
  });

  it('failing pods are retried until backoffLimit, then the Job fails with BackoffLimitExceeded', async () => {
    await create(job('boom', { backoffLimit: 1 }, { 'sim.localeks.io/duration': '1s', 'sim.localeks.io/exit-code': '1' }));
    await waitFor(async () => (await dp.kubectlJson(['get', 'job', 'boom'])).status?.failed === 1, { what: 'first failure' });
    // The replacement waits the 10 s pod failure back-off: jump over it.
    const j = await waitFor(async () => {
      await dp.advance(10);
      const o = await dp.kubectlJson(['get', 'job', 'boom']);
      return cond(o, 'Failed') ? o : undefined;
    }, { what: 'boom Failed', intervalMs: 500 });
    assert.equal(j.status.failed, 2);
    assert.equal(cond(j, 'Failed').reason, 'BackoffLimitExceeded');
    assert.equal(cond(j, 'Failed').message, 'Job has reached the specified backoff limit');
    assert.ok(cond(j, 'FailureTarget'));
    assert.equal(j.status.succeeded, undefined);
    assert.equal((await jobPods('boom')).length, 2);
    const w = await dp.kubectl(['wait', '--for=condition=failed', 'job/boom', '--timeout=10s']);
    assert.equal(w.code, 0, w.stderr);
  });

  it('restartPolicy OnFailure restarts the failed container in place; its restarts reach backoffLimit and fail the Job', async () => {
    await create(job('retry', { backoffLimit: 2 }, { 'sim.localeks.io/duration': '1s', 'sim.localeks.io/exit-code': '1' }, { restartPolicy: 'OnFailure' }));
    // One pod, restarted by the kubelet (CrashLoopBackOff between runs), never a second pod.
    const first = await waitFor(async () => {
      const l = await jobPods('retry');
      return l.length === 1 && l[0].status.containerStatuses?.[0]?.restartCount === 1 ? l[0] : undefined;
    }, { what: 'first in-place restart' });
    assert.equal(first.status.phase, 'Running');
    assert.equal(first.status.containerStatuses[0].lastState.terminated.exitCode, 1);
    const j = await waitFor(async () => {
      await dp.advance(10);
      const o = await dp.kubectlJson(['get', 'job', 'retry']);
      return cond(o, 'Failed') ? o : undefined;
    }, { what: 'retry Failed', intervalMs: 500 });
    assert.equal(cond(j, 'Failed').reason, 'BackoffLimitExceeded');
    // The one pod was restarted, never replaced; failing the Job stops it (counted failed then, as upstream does).
    assert.equal(j.status.failed, 1);
    const names = new Set((await jobPods('retry')).map((p: any) => p.metadata.name));
    assert.ok(names.size <= 1, 'the same pod all along');
  });

  it('backoffLimitPerIndex retries each index on its own and fails the Job with its failed indexes', async () => {
    await create(job('per-index', { completions: 3, parallelism: 3, completionMode: 'Indexed', backoffLimitPerIndex: 1 }, { 'sim.localeks.io/duration': '1s', 'sim.localeks.io/exit-code': '3' }));
    const j = await waitFor(async () => {
      await dp.advance(10);
      const o = await dp.kubectlJson(['get', 'job', 'per-index']);
      return cond(o, 'Failed') ? o : undefined;
    }, { what: 'per-index Failed', intervalMs: 500 });
    assert.equal(cond(j, 'Failed').reason, 'FailedIndexes');
    assert.equal(cond(j, 'Failed').message, 'Job has failed indexes');
    assert.equal(j.status.failedIndexes, '0-2');
    assert.equal(j.status.failed, 6);
    const pods = await jobPods('per-index');
    assert.equal(pods.length, 6);
    const counts = pods.map((p: any) => `${p.metadata.labels['batch.kubernetes.io/job-completion-index']}:${p.metadata.annotations['batch.kubernetes.io/job-index-failure-count']}`).sort();
    assert.deepEqual(counts, ['0:0', '0:1', '1:0', '1:1', '2:0', '2:1']);
  });

  it('a podFailurePolicy FailJob rule fails the Job on the first matching exit code', async () => {
    await create(job('policy', { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }] } }, { 'sim.localeks.io/duration': '1s', 'sim.localeks.io/exit-code': '42' }));
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'policy']);
      return cond(o, 'Failed') ? o : undefined;
    }, { what: 'policy Failed' });
    assert.equal(cond(j, 'Failed').reason, 'PodFailurePolicy');
    assert.match(cond(j, 'Failed').message, /^Container main for pod default\/policy-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
    assert.equal(j.status.failed, 1);
  });

  it('activeDeadlineSeconds fails the Job with DeadlineExceeded and stops its pods', async () => {
    await create(job('slow', { activeDeadlineSeconds: 30 }, { 'sim.localeks.io/duration': '1h' }));
    await waitFor(async () => (await dp.kubectlJson(['get', 'job', 'slow'])).status?.active === 1, { what: 'slow active' });
    await dp.advance(31);
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'slow']);
      return cond(o, 'Failed') ? o : undefined;
    }, { what: 'slow Failed' });
    assert.equal(cond(j, 'Failed').reason, 'DeadlineExceeded');
    assert.equal(cond(j, 'Failed').message, 'Job was active longer than specified deadline');
    await dp.advance(30); // the pods' termination grace period
    await waitFor(async () => (await jobPods('slow')).length === 0, { what: 'slow pods gone' });
  });

  it('a suspended Job runs no pods until it is resumed', async () => {
    await create(job('later', { suspend: true }));
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'later']);
      return cond(o, 'Suspended') ? o : undefined;
    }, { what: 'Suspended condition' });
    assert.equal(cond(j, 'Suspended').reason, 'JobSuspended');
    assert.equal(j.status.startTime, undefined);
    assert.equal((await jobPods('later')).length, 0);
    const p = await dp.kubectl(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    assert.equal(p.code, 0, p.stderr);
    const done = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'later']);
      return cond(o, 'Complete') ? o : undefined;
    }, { what: 'later Complete' });
    const s = done.status.conditions.find((c: any) => c.type === 'Suspended');
    assert.equal(s.status, 'False');
    assert.equal(s.reason, 'JobResumed');
  });

  it('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
    await create(job('short', { ttlSecondsAfterFinished: 60 }));
    await waitFor(async () => cond(await dp.kubectlJson(['get', 'job', 'short']), 'Complete'), { what: 'short Complete' });
    assert.equal((await dp.kubectl(['get', 'job', 'short'])).code, 0, 'still there before the TTL');
    await dp.advance(61);
    await waitFor(async () => (await dp.kubectl(['get', 'job', 'short'])).code !== 0, { what: 'short deleted' });
    await waitFor(async () => (await jobPods('short')).length === 0, { what: 'short pods deleted' });
  });
});

function cronJob(name: string, schedule: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}) {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule,
      ...spec,
      jobTemplate: { metadata: { labels: { cron: name } }, spec: { template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } } },
    },
  });
}

const cronJobs = async (name: string) => (await dp.kubectlJson(['get', 'jobs', '-l', `cron=${name}`])).items.filter((j: any) => !j.metadata.deletionTimestamp);
const MIN = 60_000;

describe('workloads: CronJobs on the simulated clock with kubectl', () => {
  it('creates the Job at the scheduled minute; Forbid skips while it runs; Replace replaces it; suspend stops it', async () => {
    await create(cronJob('tick', '*/5 * * * *', { concurrencyPolicy: 'Forbid' }, { 'sim.localeks.io/duration': '1h' }));
    const cj = await dp.kubectlJson(['get', 'cronjob', 'tick']);
    const created = Date.parse(cj.metadata.creationTimestamp);
    const first = Math.floor(created / (5 * MIN)) * 5 * MIN + 5 * MIN;
    assert.equal((await cronJobs('tick')).length, 0);
    await dp.advance(300);
    const jobs = await waitFor(async () => {
      const l = await cronJobs('tick');
      return l.length === 1 ? l : undefined;
    }, { what: 'first scheduled Job' });
    // The first activation after creation (or, if the jump also passed the next one, that one: only the latest missed runs).
    const at = Number(jobs[0].metadata.name.slice('tick-'.length)) * MIN;
    assert.ok(at === first || at === first + 5 * MIN, jobs[0].metadata.name);
    assert.equal(jobs[0].metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(at).toISOString().replace('.000Z', 'Z'));
    assert.equal(jobs[0].metadata.ownerReferences[0].kind, 'CronJob');
    const st = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'cronjob', 'tick']);
      return o.status?.active?.length === 1 ? o.status : undefined;
    }, { what: 'status.active' });
    assert.equal(st.lastScheduleTime, new Date(at).toISOString().replace('.000Z', 'Z'));
    assert.equal(st.active[0].name, jobs[0].metadata.name);

    // Forbid: the next activation is skipped while the first Job runs.
    await dp.advance(300);
    await waitFor(async () => (await dp.kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=tick,reason=JobAlreadyActive'])).items.length > 0, { what: 'JobAlreadyActive event' });
    assert.equal((await cronJobs('tick')).length, 1);

    // Replace: the running Job is deleted and a new one created.
    const p = await dp.kubectl(['patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"concurrencyPolicy":"Replace"}}']);
    assert.equal(p.code, 0, p.stderr);
    await dp.advance(300);
    const replaced = await waitFor(async () => {
      const l = await cronJobs('tick');
      return l.length === 1 && l[0].metadata.name !== jobs[0].metadata.name ? l : undefined;
    }, { what: 'replacement Job' });
    assert.equal(Number(replaced[0].metadata.name.split('-')[1]) % 5, 0);

    // Suspended: no new Jobs.
    const s = await dp.kubectl(['patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    assert.equal(s.code, 0, s.stderr);
    await dp.advance(600);
    const after = await dp.kubectlJson(['get', 'cronjob', 'tick']);
    await dp.kubectlJson(['get', 'cronjob', 'tick']);
    assert.deepEqual((await cronJobs('tick')).map((j: any) => j.metadata.name), [replaced[0].metadata.name]);
    assert.equal(after.status.lastScheduleTime, new Date(Number(replaced[0].metadata.name.split('-')[1]) * MIN).toISOString().replace('.000Z', 'Z'));
    assert.equal((await dp.kubectl(['delete', 'cronjob', 'tick'])).code, 0);
  });

  it('keeps successfulJobsHistoryLimit finished Jobs and records lastSuccessfulTime', async () => {
    await create(cronJob('quick', '* * * * *', { successfulJobsHistoryLimit: 2 }));
    const seen = new Set<string>();
    for (let k = 0; k < 4; k++) {
      await dp.advance(60);
      await waitFor(async () => {
        const l = await cronJobs('quick');
        const fresh = l.filter((j: any) => !seen.has(j.metadata.name));
        if (fresh.length === 0 || !fresh.every((j: any) => cond(j, 'Complete'))) return false;
        for (const j of fresh) seen.add(j.metadata.name);
        return true;
      }, { what: `run ${k + 1} complete` });
    }
    assert.ok(seen.size >= 4);
    await waitFor(async () => (await cronJobs('quick')).length === 2, { what: 'history trimmed to 2' });
    const cj = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'cronjob', 'quick']);
      return o.status?.lastSuccessfulTime && !o.status.active ? o : undefined;
    }, { what: 'lastSuccessfulTime' });
    assert.ok(Date.parse(cj.status.lastSuccessfulTime) >= Date.parse(cj.status.lastScheduleTime));
    const table = await dp.kubectl(['get', 'cronjob', 'quick']);
    assert.match(table.stdout, /quick\s+\* \* \* \* \*/, table.stdout);
  });

  it('kubectl create job --from=cronjob/x runs the template once', async () => {
    const y = await dp.kubectl(['create', 'job', 'by-hand', '--from=cronjob/quick']);
    assert.equal(y.code, 0, y.stderr);
    const j = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'job', 'by-hand']);
      return cond(o, 'Complete') ? o : undefined;
    }, { what: 'by-hand Complete' });
    assert.equal(j.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(j.metadata.ownerReferences[0].name, 'quick');
    assert.equal((await dp.kubectl(['delete', 'cronjob', 'quick'])).code, 0);
  });

  it('rejects bad schedules and time zones with the API server\'s 422', async () => {
    const bad = await dp.kubectl(['create', '-f', '-'], cronJob('bad', '61 * * * *'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The CronJob "bad" is invalid: spec.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/);
    const tz = await dp.kubectl(['create', '-f', '-'], cronJob('bad', '0 * * * *', { timeZone: 'Mars/Olympus' }));
    assert.notEqual(tz.code, 0);
    assert.match(tz.stderr, /spec.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);
    assert.notEqual((await dp.kubectl(['get', 'cronjob', 'bad'])).code, 0, 'nothing stored');
  });

  it('evaluates the schedule in spec.timeZone', async () => {
    // Kathmandu is UTC+05:45: its :00/:10/... are :15/:25/... UTC.
    await create(cronJob('nepal', '*/10 * * * *', { timeZone: 'Asia/Kathmandu' }));
    await dp.advance(600);
    const j = await waitFor(async () => (await cronJobs('nepal'))[0], { what: 'nepal Job' });
    const minutes = Number(j.metadata.name.split('-')[1]);
    assert.equal(minutes % 10, 5, j.metadata.name);
    assert.match(j.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d0:00\+05:45$/);
  });
});
