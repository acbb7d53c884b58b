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
    return (seed >>> 12) % n;
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

test('an Update records over trees exactly what the path-set construction records (random write sequences)', async () => {
  const { updateByPaths } = await import('./managed-fields.ts');
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n;
  };
  const names = ['containers', 'env', 'ports', 'finalizers', 'conditions', 'name', 'type', 'labels', 'x', 'args', 'image', 'phase', 'podIP'];
  const value = (depth: number): unknown => {
    const r = rnd(depth > 3 ? 3 : 6);
    if (r === 0) return rnd(2) ? 'v' + rnd(3) : rnd(3);
    if (r === 1) return rnd(3) ? null : {};
    if (r === 2) return rnd(4) === 0 ? undefined : true;
    if (r === 3) {
      const o: Record<string, unknown> = {};
      for (let i = rnd(4); i > 0; i--) o[names[rnd(names.length)]!] = value(depth + 1);
      return o;
    }
    const a: unknown[] = [];
    for (let i = rnd(4); i > 0; i--) a.push(rnd(4) ? { name: 'n' + rnd(3), type: 't' + rnd(2), containerPort: rnd(2), protocol: 'TCP', ...(rnd(2) ? { image: value(depth + 1) } : {}) } : rnd(2) ? 'v' + rnd(2) : {});
    return a;
  };
  const randomObject = (): any => {
    const o: Record<string, unknown> = { apiVersion: 'v1', kind: 'X', metadata: { name: 'o', ...(rnd(2) ? { labels: { a: 'v' + rnd(2) } } : {}), ...(rnd(3) ? {} : { finalizers: ['f' + rnd(2), 'f' + rnd(2)] }) } };
    for (const k of ['spec', 'status', 'data']) if (rnd(3)) o[k] = value(1);
    return o;
  };
  const randomEntries = (): any[] => {
    const out: any[] = [];
    for (let i = rnd(3); i > 0; i--) {
      const f: any = {};
      for (let j = rnd(4); j > 0; j--) {
        let cur = f;
        for (let d = rnd(3); d > 0; d--) cur = cur[['f:spec', 'f:status', 'f:x', 'f:containers', 'k:{"name":"n1"}', '.', 'f:metadata'][rnd(7)]!] ??= {};
        cur[['f:name', 'f:image', '.', 'f:phase', 'f:labels'][rnd(5)]!] = rnd(5) ? {} : 1;
      }
      out.push({ manager: ['a', 'b', 'c'][rnd(3)], operation: rnd(4) ? 'Update' : 'Apply', apiVersion: 'v1', time: 't0', fieldsType: 'FieldsV1', fieldsV1: f, ...(rnd(3) ? {} : { subresource: 'status' }) });
    }
    return out;
  };
  const mutate = (o: any): any => {
    for (let n = 1 + rnd(3); n > 0; n--) {
      // Walk to a random object or array inside o, then change, add or remove a member.
      let cur: any = o;
      for (let d = rnd(4); d > 0; d--) {
        const ks = cur && typeof cur === 'object' ? Object.keys(cur) : [];
        const k = ks[rnd(Math.max(1, ks.length))];
        if (k === undefined || k === 'apiVersion' || k === 'kind' || k === 'managedFields' || cur[k] === null || typeof cur[k] !== 'object') break;
        cur = cur[k];
      }
      if (!cur || typeof cur !== 'object') continue;
      if (Array.isArray(cur)) {
        if (rnd(2) && cur.length > 0) cur.splice(rnd(cur.length), 1);
        else cur.push(rnd(2) ? { name: 'n' + rnd(3), image: 'i' + rnd(2) } : 'v' + rnd(2));
      } else {
        const ks = Object.keys(cur).filter((k) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && k !== 'managedFields');
        const r = rnd(3);
        if (r === 0 && ks.length > 0) delete cur[ks[rnd(ks.length)]!];
        else if (r === 1 && ks.length > 0) cur[ks[rnd(ks.length)]!] = value(3);
        else cur[names[rnd(names.length)]!] = value(2);
      }
    }
    return o;
  };
  let compared = 0;
  for (let i = 0; i < 3000; i++) {
    let cur: any = randomObject();
    if (rnd(2)) cur.metadata.managedFields = randomEntries();
    for (let step = 0; step < 4; step++) {
      // Mostly small changes of the current object (as real updates are), sometimes a new one.
      const nextObj: any = rnd(4) === 0 ? randomObject() : mutate(structuredClone({ ...cur, metadata: { ...cur.metadata, managedFields: undefined } }));
      const sub = rnd(3) === 0 ? 'status' : '';
      if (sub === 'status') for (const k of ['spec', 'data', 'metadata']) nextObj[k] = structuredClone(cur[k]);
      if (rnd(4) === 0) nextObj.metadata.managedFields = randomEntries();
      const manager = ['a', 'b', 'c'][rnd(3)]!;
      const a = structuredClone(nextObj);
      const b = structuredClone(nextObj);
      const old = rnd(8) === 0 ? undefined : cur;
      recordManagedFields(a, old, manager, 'Update', 't' + step, sub);
      if (!old && (b.metadata.managedFields ?? []).length === 0) recordManagedFields(b, old, manager, 'Update', 't' + step, sub);
      else updateByPaths(b, old, manager, 't' + step, sub);
      assert.equal(JSON.stringify(a.metadata.managedFields), JSON.stringify(b.metadata.managedFields), JSON.stringify({ old, next: nextObj, manager, sub }));
      compared++;
      cur = a;
    }
  }
  assert.equal(compared, 12000);
});
