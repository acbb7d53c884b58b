import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheme } from '../api/scheme.ts';
import { toTable } from './table.ts';

test('pod STATUS while init containers run: the first unfinished one decides, as kubectl prints it', () => {
  const pods = new Scheme().get('', 'v1', 'pods')!;
  const pod = (init: unknown[]) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { initContainers: [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'app' }] },
    status: { phase: 'Pending', initContainerStatuses: init, containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } }, restartCount: 0 }] },
  });
  const status = (init: unknown[]) => ((toTable(pods, [pod(init)], Date.parse('2026-01-01T00:01:00Z'), 'None') as any).rows[0].cells[2] as string);
  const running = { state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, restartCount: 0 };
  const waiting = { state: { waiting: { reason: 'PodInitializing' } }, restartCount: 0 };
  const done = { state: { terminated: { exitCode: 0, reason: 'Completed' } }, restartCount: 0 };
  assert.equal(status([running, waiting]), 'Init:0/2');
  assert.equal(status([done, running]), 'Init:1/2');
  assert.equal(status([{ state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 3 }, waiting]), 'Init:CrashLoopBackOff');
  assert.equal(status([{ state: { terminated: { exitCode: 1, reason: 'Error' } }, restartCount: 0 }, waiting]), 'Init:Error');
});
