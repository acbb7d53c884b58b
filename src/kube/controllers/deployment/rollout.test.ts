import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intOrPercent, maxScaleDownOld, newReplicasForScaleUp, podsToDelete, podTemplateHash, resolveFenceposts } from './rollout.ts';

const dep = (replicas: number, maxSurge?: number | string, maxUnavailable?: number | string) => ({
  spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } },
});

test('fenceposts: surge rounds up, unavailable rounds down, never both zero', () => {
  assert.deepEqual(resolveFenceposts(dep(10)), { maxSurge: 3, maxUnavailable: 2 });
  assert.deepEqual(resolveFenceposts(dep(1)), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(resolveFenceposts(dep(3, 0, 0)), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(resolveFenceposts(dep(4, '50%', '50%')), { maxSurge: 2, maxUnavailable: 2 });
  assert.throws(() => intOrPercent('abc', 10, true, 0), /percentage/);
});

test('rolling update steps honour maxSurge and maxUnavailable', () => {
  // 10 replicas, 25%/25%: new RS may go to 3 while old has 10 (13 total).
  assert.equal(newReplicasForScaleUp(dep(10), 10, 0), 3);
  assert.equal(newReplicasForScaleUp(dep(10), 13, 3), 3, 'at the surge limit');
  // 13 pods, new RS 3 of which 0 available: old may lose 13 - 8 - 3 = 2.
  assert.equal(maxScaleDownOld(dep(10), 13, 3, 0), 2);
  assert.equal(maxScaleDownOld(dep(10), 13, 3, 3), 5);
  assert.equal(newReplicasForScaleUp({ spec: { replicas: 4, strategy: { type: 'Recreate' } } }, 4, 0), 4);
});

test('pod-template-hash is stable, ignores its own label, changes with the template and collisions', () => {
  const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
  const h = podTemplateHash(t);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(podTemplateHash({ ...t, metadata: { labels: { app: 'web', 'pod-template-hash': h } } }), h);
  assert.notEqual(podTemplateHash({ ...t, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }), h);
  assert.notEqual(podTemplateHash(t, 1), h);
});

test('scale-down victims: unassigned, pending, not ready, newest first', () => {
  const mk = (name: string, node: string | undefined, phase: string, ready: boolean, created: string) => ({
    metadata: { name, creationTimestamp: created },
    spec: { nodeName: node },
    status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: created }] },
  });
  const pods = [
    mk('old-ready', 'n1', 'Running', true, '2026-01-01T00:00:00Z'),
    mk('new-ready', 'n1', 'Running', true, '2026-01-01T01:00:00Z'),
    mk('unready', 'n1', 'Running', false, '2026-01-01T00:00:00Z'),
    mk('pending', 'n1', 'Pending', false, '2026-01-01T00:00:00Z'),
    mk('unassigned', undefined, 'Pending', false, '2026-01-01T00:00:00Z'),
  ];
  assert.deepEqual(podsToDelete(pods, 5).map((p) => p.metadata?.name), ['unassigned', 'pending', 'unready', 'new-ready', 'old-ready']);
});
