import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredTaints, evictionTime, unknownConditions } from './node-lifecycle.ts';

const node = (ready: string, extra: Record<string, any> = {}) => ({
  metadata: { name: 'n' },
  spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], ...extra },
  status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: 't0', lastTransitionTime: 't0', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] },
});

test('Unknown conditions keep the heartbeat and move the transition time', () => {
  const [c] = unknownConditions(node('True').status.conditions, 't1');
  assert.deepEqual(c, { type: 'Ready', status: 'Unknown', lastHeartbeatTime: 't0', lastTransitionTime: 't1', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
});

test('lifecycle taints follow Ready, unschedulable and shutdown; others are kept; timeAdded only on NoExecute', () => {
  assert.equal(desiredTaints(node('True'), 't1', false), undefined);
  const t = desiredTaints(node('Unknown', { unschedulable: true }), 't1', true)!;
  assert.deepEqual(t, [
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 't1' },
    { key: 'node.cloudprovider.kubernetes.io/shutdown', effect: 'NoSchedule' },
  ]);
  // Already there: unchanged (timeAdded kept).
  assert.equal(desiredTaints({ ...node('Unknown', { unschedulable: true }), spec: { unschedulable: true, taints: t } }, 't2', true), undefined);
  // Ready=False: not-ready instead; back to Ready: only the node's own taint.
  assert.deepEqual(desiredTaints({ ...node('False'), spec: { taints: t } }, 't3', false)!.map((x) => `${x.key}:${x.effect}`), ['dedicated:NoSchedule', 'node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  assert.deepEqual(desiredTaints({ ...node('True'), spec: { taints: t } }, 't3', false), [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
});

test('taint eviction: untolerated now, tolerationSeconds from timeAdded, forever without it', () => {
  const taints = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }];
  const at0 = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(evictionTime({ spec: {} }, taints), 'now');
  assert.equal(evictionTime({ spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] } }, taints), at0 + 300_000);
  assert.equal(evictionTime({ spec: { tolerations: [{ operator: 'Exists' }] } }, taints), undefined);
  assert.equal(evictionTime({ spec: {} }, [{ key: 'x', effect: 'NoSchedule' }]), undefined);
});
