import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backOffRestartedStatus, restartBackoffMs, restartedStatus, runningStatus, stopDurationMs } from './pod-status.ts';

const pod: any = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
const net = { hostIP: '10.0.0.1', podIP: '10.0.0.9' };

test('restart back-off doubles from 10 s up to 5 minutes', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(restartBackoffMs), [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
});

test('a failed container waits in CrashLoopBackOff with restartCount and lastState; then runs again', () => {
  const prev = runningStatus(pod, net, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', true) as any;
  const crashed = restartedStatus(pod, prev, net, '2026-01-01T00:00:05Z', 2) as any;
  const cs = crashed.containerStatuses[0];
  assert.equal(crashed.phase, 'Running');
  assert.equal(cs.restartCount, 1);
  assert.equal(cs.state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(cs.state.waiting.message, 'back-off 10s restarting failed container=app pod=p_ns(u1)');
  assert.deepEqual(cs.lastState.terminated, { exitCode: 2, reason: 'Error', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:05Z', containerID: cs.containerID });
  assert.equal(crashed.conditions.find((c: any) => c.type === 'Ready').status, 'False');
  assert.equal(crashed.startTime, '2026-01-01T00:00:00Z');
  const again = backOffRestartedStatus(pod, crashed, net, '2026-01-01T00:00:15Z') as any;
  assert.equal(again.containerStatuses[0].restartCount, 1);
  assert.equal(again.containerStatuses[0].state.running.startedAt, '2026-01-01T00:00:15Z');
  assert.equal(again.containerStatuses[0].lastState.terminated.exitCode, 2);
  const ok = restartedStatus(pod, again, net, '2026-01-01T00:00:20Z', 0) as any;
  assert.equal(ok.containerStatuses[0].restartCount, 2);
  assert.equal(ok.containerStatuses[0].state.running.startedAt, '2026-01-01T00:00:20Z');
  assert.equal(ok.containerStatuses[0].lastState.terminated.reason, 'Completed');
});

test('stop duration: preStop sleep action or exec sleep, plus the annotation', () => {
  assert.equal(stopDurationMs(pod), 0);
  assert.equal(stopDurationMs({ ...pod, spec: { containers: [{ name: 'a', lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', 'sleep 15'] } } } }, { name: 'b', lifecycle: { preStop: { sleep: { seconds: 5 } } } }] } }), 15_000);
  assert.equal(stopDurationMs({ metadata: { annotations: { 'sim.localeks.io/stop-duration': '3s' } }, spec: { containers: [{ name: 'a', lifecycle: { preStop: { sleep: { seconds: 5 } } } }] } }), 8_000);
});
