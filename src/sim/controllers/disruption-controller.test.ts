import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../kube/api/types.ts';
import { computeDisruptionStatus, DELETION_TIMEOUT_MS } from './disruption-controller.ts';

const now = Date.parse('2026-01-01T00:10:00Z');
const pod = (name: string, ready = true, deleting = false): KObject => ({
  metadata: { name, labels: { app: 'web' }, ...(deleting ? { deletionTimestamp: 'x' } : {}) },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pdb = (spec: Record<string, any>, status?: Record<string, any>): KObject => ({ metadata: { name: 'web', generation: 2 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}) });
const scale = (replicas: number) => () => ({ key: 'deploy', replicas });

test('minAvailable integer: expected = matching pods', () => {
  const { status } = computeDisruptionStatus(pdb({ minAvailable: 2 }), [pod('a'), pod('b'), pod('c', false)], scale(5), now);
  assert.deepEqual([status.expectedPods, status.currentHealthy, status.desiredHealthy, status.disruptionsAllowed], [3, 2, 2, 0]);
  assert.equal(status.conditions[0].reason, 'InsufficientPods');
  assert.equal(status.observedGeneration, 2);
});

test('maxUnavailable and percentages count the controllers\' scale', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  const a = computeDisruptionStatus(pdb({ maxUnavailable: 1 }), pods, scale(4), now).status;
  assert.deepEqual([a.expectedPods, a.desiredHealthy, a.disruptionsAllowed], [4, 3, 0]);
  const b = computeDisruptionStatus(pdb({ minAvailable: '50%' }), pods, scale(3), now).status;
  assert.deepEqual([b.expectedPods, b.desiredHealthy, b.disruptionsAllowed], [3, 2, 1]);
  assert.equal(b.conditions[0].reason, 'SufficientPods');
});

test('recently evicted pods are not healthy until deleted or timed out', () => {
  const evictedAt = new Date(now - 1000).toISOString();
  const r = computeDisruptionStatus(pdb({ minAvailable: 1 }, { disruptedPods: { a: evictedAt } }), [pod('a'), pod('b')], scale(2), now);
  assert.equal(r.status.currentHealthy, 1);
  assert.deepEqual(r.status.disruptedPods, { a: evictedAt });
  assert.equal(r.recheckAtMs, now - 1000 + DELETION_TIMEOUT_MS);
  const later = computeDisruptionStatus(pdb({ minAvailable: 1 }, { disruptedPods: { a: evictedAt } }), [pod('a'), pod('b')], scale(2), now + DELETION_TIMEOUT_MS);
  assert.equal(later.status.currentHealthy, 2);
  assert.equal(later.status.disruptedPods, undefined);
});
