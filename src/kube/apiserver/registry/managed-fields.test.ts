/**
 * managed-fields: fieldsOf (the one-walk FieldsV1 a create records) gives
 * exactly toFieldsV1(leaves(obj).keys()), key order included, on real kinds
 * and on random objects; recordManagedFields on a create records it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldsOf, leaves, recordManagedFields, toFieldsV1 } from './managed-fields.ts';

const slow = (o: unknown) => toFieldsV1(leaves(o).keys());

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, finalizers: ['a', 'b', 'a'], ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u1', controller: true }] },
  spec: {
    containers: [
      { name: 'app', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }], resources: {} },
      { name: 'side', image: 'busybox', args: ['sleep', '1'] },
    ],
    tolerations: [{ key: 'k', operator: 'Exists' }],
    volumes: [],
    nodeSelector: {},
  },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null }] },
};
const event = {
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web-1' }, reason: 'Pulled', count: 1, source: { component: 'kubelet' },
};
const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 's' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] };

test('fieldsOf equals the path-set construction on real kinds', () => {
  for (const o of [pod, event, endpoints, { metadata: { name: 'only-identity' } }, { metadata: {}, spec: {} }, { data: { a: undefined } }]) {
    assert.equal(JSON.stringify(fieldsOf(o)), JSON.stringify(slow(o)));
  }
});

test('fieldsOf equals the path-set construction on random objects', () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const names = ['containers', 'env', 'ports', 'finalizers', 'conditions', 'name', 'type', 'metadata', 'spec', 'labels', 'x', 'args', 'uid'];
  const value = (depth: number): unknown => {
    const r = rnd(depth > 3 ? 3 : 6);
    if (r === 0) return rnd(2) ? 'v' + rnd(3) : rnd(3);
    if (r === 1) return null;
    if (r === 2) return rnd(4) === 0 ? undefined : true;
    if (r === 3) {
      const o: Record<string, unknown> = {};
      for (let i = rnd(4); i > 0; i--) o[names[rnd(names.length)]!] = value(depth + 1);
      return o;
    }
    const a: unknown[] = [];
    for (let i = rnd(4); i > 0; i--) a.push(rnd(3) ? { name: 'n' + rnd(3), type: 't' + rnd(2), containerPort: rnd(2), protocol: 'TCP', ...(rnd(2) ? { env: value(depth + 1) } : {}) } : 'v' + rnd(2));
    return a;
  };
  for (let i = 0; i < 3000; i++) {
    const o: Record<string, unknown> = { apiVersion: 'v1', kind: 'X' };
    for (let k = rnd(5); k > 0; k--) o[names[rnd(names.length)]!] = value(1);
    assert.equal(JSON.stringify(fieldsOf(o)), JSON.stringify(slow(o)), JSON.stringify(o));
  }
});

test('a create records one entry owning every field; nothing to own records none', () => {
  const o = structuredClone(pod) as any;
  recordManagedFields(o, undefined, 'kube-controller-manager', 'Update', '2026-01-01T00:00:00Z');
  assert.deepEqual(o.metadata.managedFields, [
    { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: slow(pod) },
  ]);
  const bare: any = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } };
  recordManagedFields(bare, undefined, 'm', 'Update', 't');
  assert.deepEqual(bare.metadata.managedFields, []);
});
