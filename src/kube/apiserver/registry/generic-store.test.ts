import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MemoryBackend } from '../../../store/memory/memory-backend.ts';
import { SimClock } from '../../../sim/clock.ts';
import { Scheme } from '../../api/scheme.ts';
import type { ClusterInfo } from '../../types.ts';
import { bootstrapCluster } from '../bootstrap.ts';
import { isStatusError } from '../errors.ts';
import { ClusterRegistry, writtenJson } from './generic-store.ts';

const cluster: ClusterInfo = {
  uid: 'u1', name: 'c', endpointId: 'c', accountId: '1', region: 'r', kubernetesVersion: '1.31', platformVersion: 'eks.1',
  status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: '',
};
const backend = new MemoryBackend();
const scheme = new Scheme();
const reg = new ClusterRegistry({ backend, clock: new SimClock(), cluster, scheme });
after(async () => {
  reg.cache.close();
  await backend.close();
});
const R = (g: string, r: string) => scheme.preferred(g, r)!;

test('bootstrap is idempotent and allocates the kubernetes Service IP', async () => {
  await bootstrapCluster(backend, cluster);
  const rev = await backend.currentRevision();
  await bootstrapCluster(backend, cluster);
  assert.equal(await backend.currentRevision(), rev);
  const svc = await reg.get(R('', 'services'), 'default', 'kubernetes');
  assert.equal(svc.obj.spec.clusterIP, '10.100.0.1');
  const raw = await backend.get('/k8s/u1/registry/services/default/kubernetes');
  assert.equal(JSON.parse(raw.kv!.value).metadata.resourceVersion, undefined, 'stored without resourceVersion');
});

test('status subresource: spec/status split and generation', async () => {
  const d = R('apps', 'deployments');
  const obj = await reg.create(d, 'default', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd1' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    status: { replicas: 9 },
  });
  assert.equal(obj.status, undefined, 'status reset on create');
  assert.equal(obj.metadata!.generation, 1);
  const s = await reg.update(d, 'default', 'd1', { ...structuredClone(obj), status: { replicas: 2, observedGeneration: 1 } }, { subresource: 'status' });
  assert.equal(s.obj.status.replicas, 2);
  assert.equal(s.obj.metadata!.generation, 1, 'status writes do not bump generation');
  const m = structuredClone(s.obj);
  m.spec.replicas = 5;
  m.status = { replicas: 100 };
  const u = await reg.update(d, 'default', 'd1', m);
  assert.equal(u.obj.metadata!.generation, 2);
  assert.equal(u.obj.status.replicas, 2, 'main resource writes keep status');
  // Stale resourceVersion: 409 with upstream message.
  await assert.rejects(reg.update(d, 'default', 'd1', m), (e: unknown) => isStatusError(e, 'Conflict') && /the object has been modified/.test((e as Error).message));
  // No-op update writes nothing.
  const again = await reg.update(d, 'default', 'd1', { ...structuredClone(u.obj) });
  assert.equal(again.obj.metadata!.resourceVersion, u.obj.metadata!.resourceVersion);
});

test('finalizers and graceful pod deletion', async () => {
  const cm = R('', 'configmaps');
  await reg.create(cm, 'default', { metadata: { name: 'f1', finalizers: ['example.com/f'] } });
  const d = await reg.delete(cm, 'default', 'f1');
  assert.equal(d.deleted, false);
  assert.ok(d.obj.metadata!.deletionTimestamp);
  const cur = (await reg.getFromStore(cm, 'default', 'f1'))!.obj;
  await assert.rejects(reg.update(cm, 'default', 'f1', { ...cur, metadata: { ...cur.metadata, finalizers: ['example.com/f', 'new.com/g'] } }), (e: unknown) => isStatusError(e, 'Invalid'));
  await reg.update(cm, 'default', 'f1', { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
  assert.equal(await reg.getFromStore(cm, 'default', 'f1'), undefined, 'removing the last finalizer deletes');

  const pods = R('', 'pods');
  await reg.create(pods, 'default', { metadata: { name: 'p1' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } });
  const g = await reg.delete(pods, 'default', 'p1');
  assert.equal(g.deleted, false);
  assert.equal(g.obj.metadata!.deletionGracePeriodSeconds, 30);
  const g0 = await reg.delete(pods, 'default', 'p1', { gracePeriodSeconds: 0 });
  assert.equal(g0.deleted, true);
  // Preconditions.
  const p2 = await reg.create(pods, 'default', { metadata: { name: 'p2' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
  await assert.rejects(reg.delete(pods, 'default', 'p2', { preconditions: { uid: 'nope' } }), (e: unknown) => isStatusError(e, 'Conflict') && /Precondition failed: UID in precondition: nope/.test((e as Error).message));
  assert.equal((await reg.delete(pods, 'default', 'p2', { preconditions: { uid: p2.metadata!.uid } })).deleted, true, 'unscheduled pods go at once');
});

test('services: ClusterIP and NodePort allocation with conflicts rejected', async () => {
  const s = R('', 'services');
  const a = await reg.create(s, 'default', { metadata: { name: 'a' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
  assert.match(a.spec.clusterIP, /^10\.100\./);
  assert.ok(a.spec.ports[0].nodePort >= 30000 && a.spec.ports[0].nodePort <= 32767);
  assert.equal(a.spec.ports[0].targetPort, 80);
  await assert.rejects(
    reg.create(s, 'default', { metadata: { name: 'b' }, spec: { clusterIP: a.spec.clusterIP, ports: [{ port: 80 }] } }),
    (e: unknown) => isStatusError(e, 'Invalid') && /provided IP is already allocated/.test((e as Error).message),
  );
  await assert.rejects(
    reg.create(s, 'default', { metadata: { name: 'c' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: a.spec.ports[0].nodePort }] } }),
    (e: unknown) => isStatusError(e, 'Invalid') && /spec.ports\[0\].nodePort: Invalid value: \d+: provided port is already allocated/.test((e as Error).message),
  );
  await assert.rejects(
    reg.create(s, 'default', { metadata: { name: 'd' }, spec: { clusterIP: '192.168.0.1', ports: [{ port: 80 }] } }),
    (e: unknown) => /The range of valid IPs is 10.100.0.0\/16/.test((e as Error).message),
  );
});

test('namespace lifecycle admission', async () => {
  const cm = R('', 'configmaps');
  await assert.rejects(reg.create(cm, 'nope', { metadata: { name: 'x' } }), (e: unknown) => isStatusError(e, 'NotFound') && (e as Error).message === 'namespaces "nope" not found');
  const ns = R('', 'namespaces');
  await reg.create(ns, '', { metadata: { name: 'term' } });
  const d = await reg.delete(ns, '', 'term');
  assert.equal(d.obj.status.phase, 'Terminating');
  await assert.rejects(
    reg.create(cm, 'term', { metadata: { name: 'x' } }),
    (e: unknown) => isStatusError(e, 'Forbidden') && (e as Error).message === 'configmaps "x" is forbidden: unable to create new content in namespace term because it is being terminated',
  );
});

test('events are attached to a lease (event TTL) that updates keep', async () => {
  const ev = R('', 'events');
  await reg.create(ev, 'default', { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'R', message: 'm' });
  const k = '/k8s/u1/registry/events/default/e1';
  const lease = (await backend.get(k)).kv!.lease;
  assert.notEqual(lease, 0);
  const cur = (await reg.getFromStore(ev, 'default', 'e1'))!.obj;
  await reg.update(ev, 'default', 'e1', { ...cur, count: 2 });
  assert.equal((await backend.get(k)).kv!.lease, lease);
  await backend.revokeLease(lease);
  assert.equal((await backend.get(k)).kv, undefined, 'expired with its lease');
});

test('a write returns its JSON at the write revision (the stored bytes plus resourceVersion), and the cache entry shares it', async () => {
  const cm = R('', 'configmaps');
  const created = await reg.create(cm, 'default', { metadata: { name: 'wj', labels: { a: 'b' } }, data: { k: 'v' } } as any);
  const j1 = writtenJson(created);
  assert.ok(j1, 'create returns its JSON');
  assert.deepEqual(JSON.parse(j1), JSON.parse(JSON.stringify(created)));
  const raw = await backend.get('/k8s/u1/registry/configmaps/default/wj');
  assert.equal(JSON.parse(raw.kv!.value).metadata.resourceVersion, undefined, 'stored without resourceVersion');
  assert.equal(JSON.parse(j1).metadata.resourceVersion, String(raw.kv!.modRevision));
  const e = await reg.get(cm, 'default', 'wj');
  assert.equal(e.json ?? j1, j1);
  const updated = (await reg.update(cm, 'default', 'wj', { ...created, data: { k: 'w' } })).obj;
  const j2 = writtenJson(updated)!;
  assert.deepEqual(JSON.parse(j2), JSON.parse(JSON.stringify(updated)));
  assert.equal(JSON.parse(j2).data.k, 'w');
  assert.equal(writtenJson({ metadata: {} }), undefined);
});

test('the watch cache takes a write\'s object as JSON would decode it (no undefined members, resourceVersion of the write)', async () => {
  const cm = R('', 'configmaps');
  const created = await reg.create(cm, 'default', { metadata: { name: 'wc', annotations: undefined }, data: { k: 'v' }, immutable: undefined } as any);
  const e = await reg.get(cm, 'default', 'wc');
  const raw = await backend.get('/k8s/u1/registry/configmaps/default/wc');
  const decoded = JSON.parse(raw.kv!.value);
  decoded.metadata.resourceVersion = String(raw.kv!.modRevision);
  assert.deepEqual(e.obj, decoded);
  assert.ok(!('annotations' in e.obj.metadata!) && !('immutable' in e.obj), 'members holding undefined are left out, as in the stored JSON');
  assert.notEqual(e.obj, created, 'the cache holds its own copy, not the object the caller got');
  created.data.k = 'changed by the caller';
  assert.equal((await reg.get(cm, 'default', 'wc')).obj.data.k, 'v');
});

test('a create owns no status fields of a resource with a status subresource (reset fields), a status write does', async () => {
  const pods = R('', 'pods');
  const p = await reg.create(pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mf1', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] },
  }, { fieldManager: 'kubectl-run' });
  assert.equal(p.status.phase, 'Pending');
  const created = p.metadata!.managedFields as Array<Record<string, any>>;
  assert.equal(created.length, 1);
  assert.equal(created[0]!.manager, 'kubectl-run');
  assert.ok(created[0]!.fieldsV1['f:spec'], 'the creator owns the spec');
  assert.equal(created[0]!.fieldsV1['f:status'], undefined, 'but not the status the strategy set');
  const cm = await reg.create(R('', 'configmaps'), 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mf1' }, data: { k: 'v' } }, { fieldManager: 'm' });
  assert.ok((cm.metadata!.managedFields as Array<Record<string, any>>)[0]!.fieldsV1['f:data'], 'resources without a status subresource: every field');
  const s = await reg.guaranteedUpdate(pods, 'default', 'mf1', (cur) => ({ ...cur!, status: { ...cur!.status, phase: 'Running' } }), { subresource: 'status', fieldManager: 'kubelet' });
  const kubelet = (s.obj.metadata!.managedFields as Array<Record<string, any>>).find((e) => e.manager === 'kubelet');
  assert.equal(kubelet?.subresource, 'status');
  assert.ok(kubelet?.fieldsV1['f:status']['f:phase']);
});
