/**
 * The Job controller's accounting against a real cluster registry (memory
 * store): pods created with the tracking finalizer, finished pods counted
 * once through uncountedTerminatedPods, finalizers removed, back-off before
 * a replacement, terminal conditions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { SimClock } from '../clock.ts';
import { Scheme } from '../../kube/api/scheme.ts';
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { bootstrapCluster } from '../../kube/apiserver/bootstrap.ts';
import { ClusterRegistry } from '../../kube/apiserver/registry/generic-store.ts';
import { JOB_TRACKING_FINALIZER, syncJobs } from './job-controller.ts';
import type { ControllerContext } from './workload-controllers.ts';

const cluster: ClusterInfo = {
  uid: 'ja', name: 'c', endpointId: 'c', accountId: '1', region: 'r', kubernetesVersion: '1.31', platformVersion: 'eks.1',
  status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: '',
};
const backend = new MemoryBackend();
const clock = new SimClock();
const scheme = new Scheme();
const reg = new ClusterRegistry({ backend, clock, cluster, scheme });
const jobsRes = scheme.get('batch', 'v1', 'jobs')!;
const podsRes = scheme.get('', 'v1', 'pods')!;
let wakes: number[] = [];

function ctx(): ControllerContext {
  return { reg, info: cluster, deps: { config: { timingProfile: 'fast' } } as any, clock, nowMs: clock.nowMs(), wake: (t) => wakes.push(t), log: { info() {}, warn() {} } };
}

async function pass(): Promise<void> {
  await reg.fresh();
  await syncJobs(ctx());
  await reg.fresh();
}

const podsOf = (job: string) => reg.cache.list('pods', 'default').map((e) => e.obj).filter((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === job);
const jobOf = (name: string) => reg.cache.get(reg.keyFor(jobsRes, 'default', name))!.obj;

async function finish(p: KObject, phase: 'Succeeded' | 'Failed'): Promise<void> {
  await reg.guaranteedUpdate(podsRes, 'default', p.metadata!.name!, (cur) => {
    const next = structuredClone(cur!);
    next.metadata!.resourceVersion = '';
    next.status = { phase, containerStatuses: [{ name: 'main', state: { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, finishedAt: new Date(clock.nowMs()).toISOString() } } }] };
    return next;
  }, { subresource: 'status' });
}

async function createJob(name: string, spec: Record<string, unknown>): Promise<void> {
  await reg.create(jobsRes, 'default', {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
  });
}

before(async () => {
  await bootstrapCluster(backend, cluster);
});
after(async () => {
  reg.cache.close();
  await backend.close();
});

describe('job controller accounting with a registry', () => {
  it('creates pods with the tracking finalizer and counts each finished pod once', async () => {
    await createJob('two', { completions: 2, parallelism: 2 });
    await pass();
    let pods = podsOf('two');
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => p.metadata!.finalizers!.includes(JOB_TRACKING_FINALIZER)));
    assert.equal(pods[0]!.metadata!.annotations!['sim.localeks.io/duration'], '1s');
    assert.equal(jobOf('two').status.active, 2);
    await finish(pods[0]!, 'Succeeded');
    await pass();
    await pass();
    let j = jobOf('two');
    assert.equal(j.status.succeeded, 1);
    assert.equal(j.status.active, 1);
    assert.deepEqual(j.status.uncountedTerminatedPods, {});
    pods = podsOf('two');
    assert.equal(pods.length, 2, 'no replacement for a success');
    assert.deepEqual(pods.find((p) => p.status?.phase === 'Succeeded')!.metadata!.finalizers ?? [], []);
    // More passes never count it again.
    await pass();
    assert.equal(jobOf('two').status.succeeded, 1);
    await finish(pods.find((p) => p.status?.phase !== 'Succeeded')!, 'Succeeded');
    await pass();
    await pass();
    j = jobOf('two');
    assert.equal(j.status.succeeded, 2);
    assert.deepEqual(j.status.conditions.map((c: any) => [c.type, c.status, c.reason]), [['SuccessCriteriaMet', 'True', 'CompletionsReached'], ['Complete', 'True', 'CompletionsReached']]);
    assert.ok(j.status.completionTime);
  });

  it('waits the failure back-off before a replacement and fails past backoffLimit', async () => {
    await createJob('flaky', { backoffLimit: 1 });
    await pass();
    await finish(podsOf('flaky')[0]!, 'Failed');
    wakes = [];
    await pass();
    await pass();
    assert.equal(jobOf('flaky').status.failed, 1);
    assert.equal(podsOf('flaky').length, 1, 'the replacement waits for the back-off');
    assert.ok(wakes.some((t) => t >= clock.nowMs() + 9_000), `woken for the back-off: ${wakes.map((t) => t - clock.nowMs())}`);
    clock.advance(10_000);
    await pass();
    const pods = podsOf('flaky');
    assert.equal(pods.length, 2);
    await finish(pods.find((p) => p.status?.phase !== 'Failed')!, 'Failed');
    await pass();
    await pass();
    const j = jobOf('flaky');
    assert.equal(j.status.failed, 2);
    const failed = j.status.conditions.find((c: any) => c.type === 'Failed');
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.ok(podsOf('flaky').every((p) => !(p.metadata!.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)));
  });
});
