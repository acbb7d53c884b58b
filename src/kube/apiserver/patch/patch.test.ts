import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStatusError } from '../errors.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.ts';
import { serverSideApply } from './apply.ts';

const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'side', image: 'side:1' },
    ],
    tolerations: [{ key: 't1', operator: 'Exists' }],
    volumes: [{ name: 'v1', emptyDir: {} }],
  },
});

test('strategic merge patch: table', () => {
  const cases: Array<{ name: string; patch: any; check: (o: any) => void }> = [
    {
      name: 'containers merge by name',
      patch: { spec: { containers: [{ name: 'app', image: 'app:2' }] } },
      check: (o) => {
        assert.equal(o.spec.containers.length, 2);
        assert.equal(o.spec.containers[0].image, 'app:2');
        assert.equal(o.spec.containers[0].env.length, 2);
      },
    },
    {
      name: 'new container appended',
      patch: { spec: { containers: [{ name: 'third', image: 't' }] } },
      check: (o) => assert.deepEqual(o.spec.containers.map((c: any) => c.name), ['app', 'side', 'third']),
    },
    {
      name: '$patch: delete removes a list element',
      patch: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } },
      check: (o) => assert.deepEqual(o.spec.containers.map((c: any) => c.name), ['app']),
    },
    {
      name: 'env merges by name inside a merged container',
      patch: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } },
      check: (o) => assert.deepEqual(o.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]),
    },
    {
      name: 'container ports merge by containerPort',
      patch: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 443 }] }] } },
      check: (o) => assert.deepEqual(o.spec.containers[0].ports.map((p: any) => p.containerPort), [80, 443]),
    },
    {
      name: 'tolerations are atomic (replaced)',
      patch: { spec: { tolerations: [{ key: 't2', operator: 'Exists' }] } },
      check: (o) => assert.deepEqual(o.spec.tolerations, [{ key: 't2', operator: 'Exists' }]),
    },
    {
      name: 'null deletes a map key',
      patch: { metadata: { labels: { a: null } } },
      check: (o) => assert.deepEqual(o.metadata.labels, { b: '2' }),
    },
    {
      name: 'finalizers merge as a set; $deleteFromPrimitiveList removes',
      patch: { metadata: { finalizers: ['y'], '$deleteFromPrimitiveList/finalizers': ['x'] } },
      check: (o) => assert.deepEqual(o.metadata.finalizers, ['y']),
    },
    {
      name: '$patch: replace on a map',
      patch: { metadata: { labels: { $patch: 'replace', c: '3' } } },
      check: (o) => assert.deepEqual(o.metadata.labels, { c: '3' }),
    },
    {
      name: '$patch: replace in a list',
      patch: { spec: { volumes: [{ $patch: 'replace' }, { name: 'v2', emptyDir: {} }] } },
      check: (o) => assert.deepEqual(o.spec.volumes, [{ name: 'v2', emptyDir: {} }]),
    },
    {
      name: '$retainKeys drops other keys',
      patch: { spec: { $retainKeys: ['containers'], containers: [{ name: 'app' }] } },
      check: (o) => assert.deepEqual(Object.keys(o.spec), ['containers']),
    },
    {
      name: '$setElementOrder reorders',
      patch: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } },
      check: (o) => assert.deepEqual(o.spec.containers.map((c: any) => c.name), ['side', 'app']),
    },
  ];
  for (const c of cases) {
    const before = pod();
    const out = applyStrategicMergePatch(before, c.patch);
    try {
      c.check(out);
    } catch (e) {
      throw new Error(`${c.name}: ${(e as Error).message}`);
    }
    assert.deepEqual(before, pod(), `${c.name}: input unchanged`);
  }
});

test('strategic merge patch: missing merge key is a 400', () => {
  assert.throws(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: 'x' }] } }), (e: unknown) => isStatusError(e, 'BadRequest'));
});

test('JSON merge patch replaces lists and deletes with null', () => {
  const out = applyMergePatch(pod(), { spec: { containers: [{ name: 'only' }] }, metadata: { labels: { a: null } } });
  assert.deepEqual(out.spec.containers, [{ name: 'only' }]);
  assert.deepEqual(out.metadata!.labels, { b: '2' });
});

test('JSON patch: ops, test failure is 422', () => {
  const out = applyJsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/0/image', value: 'z' }, { op: 'remove', path: '/metadata/labels/a' }]);
  assert.equal(out.spec.containers[0].image, 'z');
  assert.throws(() => applyJsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'q' }]), (e: unknown) => isStatusError(e) && e.code === 422);
  assert.throws(() => applyJsonPatch(pod(), { op: 'x' }), (e: unknown) => isStatusError(e, 'BadRequest'));
});

test('server-side apply: ownership, removal of dropped fields, conflicts and force', () => {
  const cfg = (replicas: number, labels: Record<string, string>) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels }, spec: { replicas } });
  const gr = { group: 'apps', resource: 'deployments' };
  const a1 = serverSideApply(undefined, cfg(1, { x: '1', y: '2' }), { manager: 'a', force: false, time: 't' }, gr);
  assert.equal(a1.metadata!.managedFields!.length, 1);
  assert.ok(a1.metadata!.managedFields![0]!.fieldsV1['f:spec']['f:replicas']);
  // Manager a drops label y: it is removed.
  const a2 = serverSideApply(a1, cfg(1, { x: '1' }), { manager: 'a', force: false, time: 't' }, gr);
  assert.deepEqual(a2.metadata!.labels, { x: '1' });
  // Manager b sets replicas differently: conflict; same value: shared ownership.
  assert.throws(
    () => serverSideApply(a2, cfg(3, {}), { manager: 'b', force: false, time: 't' }, gr),
    (e: unknown) => isStatusError(e, 'Conflict') && /Apply failed with 1 conflict: conflict with "a": .spec.replicas/.test(e.message),
  );
  const shared = serverSideApply(a2, cfg(1, {}), { manager: 'b', force: false, time: 't' }, gr);
  assert.equal(shared.metadata!.managedFields!.length, 2);
  const forced = serverSideApply(a2, cfg(3, {}), { manager: 'b', force: true, time: 't' }, gr);
  assert.equal(forced.spec.replicas, 3);
  const aEntry = forced.metadata!.managedFields!.find((m) => m.manager === 'a')!;
  assert.equal(aEntry.fieldsV1['f:spec'], undefined);
});

test('server-side apply: a list item the manager stops applying goes, with its defaulted fields', () => {
  const gr = { group: 'apps', resource: 'deployments' };
  const cfg = (names: string[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { mine: '1' } }, spec: { template: { spec: { containers: names.map((n) => ({ name: n, image: 'i' })) } } } });
  const a = serverSideApply(undefined, cfg(['a', 'b']), { manager: 'm', force: false, time: 't' }, gr);
  // The server defaults fields nobody owns; another manager owns a label.
  a.spec.template.spec.containers[1].imagePullPolicy = 'Always';
  a.metadata!.labels!.other = 'x';
  a.metadata!.managedFields!.push({ manager: 'o', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:other': {} } } } });
  const b = serverSideApply(a, { ...cfg(['a']), metadata: { name: 'd' } }, { manager: 'm', force: false, time: 't' }, gr);
  assert.deepEqual(b.spec.template.spec.containers.map((c: any) => c.name), ['a']);
  assert.deepEqual(b.metadata!.labels, { other: 'x' });
});
