/**
 * The CronJob controller against a memory-store registry on a SimClock:
 * Jobs at the scheduled minutes, the wake for the next activation,
 * startingDeadlineSeconds, Allow running Jobs side by side, status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { SimClock } from '../clock.ts';
import { Scheme } from '../../kube/api/scheme.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { bootstrapCluster } from '../../kube/apiserver/bootstrap.ts';
import { ClusterRegistry } from '../../kube/apiserver/registry/generic-store.ts';
import { syncCronJobs } from './cronjob-controller.ts';
import type { ControllerContext } from './workload-controllers.ts';

const cluster: ClusterInfo = {
  uid: 'cj', name: 'c', endpointId: 'c', accountId: '1', region: 'r', kubernetesVersion: '1.31', platformVersion: 'eks.1',
  status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: '',
};
const backend = new MemoryBackend();
const clock = new SimClock();
const scheme = new Scheme();
const reg = new ClusterRegistry({ backend, clock, cluster, scheme });
const cjRes = scheme.get('batch', 'v1', 'cronjobs')!;
let wakes: number[] = [];
const MIN = 60_000;

async function pass(): Promise<void> {
  await reg.fresh();
  wakes = [];
  const ctx: ControllerContext = { reg, info: cluster, deps: {} as any, clock, nowMs: clock.nowMs(), wake: (t) => wakes.push(t), log: { info() {}, warn() {} } };
  await syncCronJobs(ctx);
  await reg.fresh();
}

const jobs = (cj: string) => reg.cache.list('batch/jobs', 'default').map((e) => e.obj).filter((j) => j.metadata?.ownerReferences?.[0]?.name === cj).map((j) => j.metadata!.name!).sort();

before(async () => {
  await bootstrapCluster(backend, cluster);
  // Start 10 s after a whole minute.
  clock.advance(MIN - (clock.nowMs() % MIN) + 10_000);
});
after(async () => {
  reg.cache.close();
  await backend.close();
});

describe('cronjob controller on the simulated clock', () => {
  it('creates a Job per activation (Allow runs them side by side) and wakes for the next one', async () => {
    await reg.create(cjRes, 'default', {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'every' },
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } } },
    });
    const start = Math.floor(clock.nowMs() / MIN) * MIN;
    await pass();
    assert.deepEqual(jobs('every'), []);
    assert.ok(wakes.includes(start + MIN), 'wakes at the next minute');
    clock.advance(MIN);
    await pass();
    assert.deepEqual(jobs('every'), [`every-${start / MIN + 1}`]);
    clock.advance(MIN);
    await pass();
    assert.deepEqual(jobs('every'), [`every-${start / MIN + 1}`, `every-${start / MIN + 2}`]);
    await pass();
    const st = reg.cache.get(reg.keyFor(cjRes, 'default', 'every'))!.obj.status;
    assert.equal(st.active.length, 2);
    assert.equal(st.lastScheduleTime, new Date(start + 2 * MIN).toISOString().replace('.000Z', 'Z'));
  });

  it('skips activations older than startingDeadlineSeconds and runs only the latest of many missed', async () => {
    await reg.create(cjRes, 'default', {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'late' },
      spec: { schedule: '*/5 * * * *', startingDeadlineSeconds: 30, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } } },
    });
    await pass();
    // Jump to 40 s past the next 5-minute mark: too late for it.
    const next = Math.ceil(clock.nowMs() / (5 * MIN)) * 5 * MIN;
    clock.advance(next + 40_000 - clock.nowMs());
    await pass();
    assert.deepEqual(jobs('late'), []);
    // 20 s past the following mark: within the deadline.
    clock.advance(5 * MIN - 20_000);
    await pass();
    assert.deepEqual(jobs('late'), [`late-${(next + 5 * MIN) / MIN}`]);
  });
});
