import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../../store/memory/memory-backend.ts';
import { type CacheEntry, WatchCache, encodedJson, mergeSorted, splitRegistryKey } from './watch-cache.ts';

test('registry keys split into resource, namespace and name', () => {
  assert.deepEqual(splitRegistryKey('pods/default/p1'), { resource: 'pods', namespace: 'default', name: 'p1' });
  assert.deepEqual(splitRegistryKey('namespaces/default'), { resource: 'namespaces', namespace: '', name: 'default' });
  assert.deepEqual(splitRegistryKey('apps/deployments/ns/d'), { resource: 'apps/deployments', namespace: 'ns', name: 'd' });
  assert.deepEqual(splitRegistryKey('rbac.authorization.k8s.io/clusterroles/admin'), { resource: 'rbac.authorization.k8s.io/clusterroles', namespace: '', name: 'admin' });
  assert.deepEqual(splitRegistryKey('example.com/widgets/ns/w'), { resource: 'example.com/widgets', namespace: 'ns', name: 'w' });
});

test('watch cache: lists by namespace in key order, events since a revision, watchers', async () => {
  const b = new MemoryBackend();
  const p = '/k8s/u/registry/';
  await b.create(`${p}configmaps/b/x`, JSON.stringify({ metadata: { name: 'x', namespace: 'b' } }));
  const c = new WatchCache(b, p);
  await c.ready();
  const start = c.rev;
  const seen: string[] = [];
  c.addWatcher({ resource: 'configmaps', namespace: 'a', onEvents: (evs) => seen.push(...evs.map((e) => `${e.type} ${e.obj.metadata!.name} ${e.obj.metadata!.resourceVersion}`)), onClose() {} });
  const w1 = await b.create(`${p}configmaps/a/z`, JSON.stringify({ metadata: { name: 'z', namespace: 'a' } }));
  await b.create(`${p}configmaps/a/y`, JSON.stringify({ metadata: { name: 'y', namespace: 'a' } }));
  const w3 = await b.update(`${p}configmaps/a/z`, JSON.stringify({ metadata: { name: 'z', namespace: 'a' }, data: { k: 'v' } }));
  const w4 = await b.delete(`${p}configmaps/a/y`);
  assert.equal(await c.waitFor(w4.revision), true);
  assert.deepEqual(c.list('configmaps', 'a').map((e) => e.obj.metadata!.name), ['z']);
  assert.deepEqual(c.list('configmaps', '').map((e) => e.key), [`${p}configmaps/a/z`, `${p}configmaps/b/x`]);
  assert.equal(c.get(`${p}configmaps/a/z`)!.obj.metadata!.resourceVersion, String(w3.revision));
  assert.deepEqual(seen, [`ADDED z ${w1.revision}`, `ADDED y ${w1.revision + 1}`, `MODIFIED z ${w3.revision}`, `DELETED y ${w4.revision}`]);
  assert.deepEqual(c.eventsSince(w3.revision - 1, 'configmaps', 'a')!.map((e) => e.type), ['MODIFIED', 'DELETED']);
  assert.equal(c.eventsSince(start - 1, 'configmaps', ''), undefined, 'older than the buffer');
  c.close();
  await b.close();
});

test('watch cache: a revision reached by writes elsewhere in the store is current at once', async () => {
  const b = new MemoryBackend();
  const c = new WatchCache(b, '/k8s/u/registry/');
  await c.ready();
  const w = await b.put('/aws/other/key', 'x');
  // true (not the timeout's false): the cache is current at a revision written elsewhere.
  assert.equal(await c.waitFor(w.revision), true);
  assert.ok(c.rev >= w.revision);
  c.close();
  await b.close();
});

test('trim: a quiet cache drops history beyond the window and, once idle, its memoized JSON', async () => {
  const b = new MemoryBackend();
  const prefix = '/k8s/trim/registry/';
  const c = new WatchCache(b, prefix);
  await c.ready();
  for (let i = 0; i < 300; i++) await b.create(`${prefix}configmaps/a/cm-${i}`, JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `cm-${i}`, namespace: 'a' } }));
  await c.waitFor(await b.currentRevision());
  const entries = c.list('configmaps', 'a');
  assert.equal(entries.length, 300);
  const first = c.eventsSince(c.bufferStart, 'configmaps', 'a')!;
  assert.equal(first.length, 300, 'all recent events are kept');
  const start = c.bufferStart;
  for (const e of entries) encodedJson(e);
  // Two minutes later, without new events.
  c.trim(Date.now() + 120_000);
  assert.ok(c.bufferStart > start, 'history beyond the window is dropped');
  assert.equal(c.eventsSince(c.bufferStart, 'configmaps', 'a')!.length, 100, 'the newest 100 events stay');
  assert.equal(c.eventsSince(start, 'configmaps', 'a'), undefined);
  assert.ok(entries.every((e) => e.json === undefined), 'idle: memoized JSON is released');
  assert.equal(JSON.parse(encodedJson(entries[0]!)).metadata.name, entries[0]!.obj.metadata!.name, 'and rebuilt on demand');
  c.close();
  await b.close();
});

test('watch cache: history of a watched object keeps every version, prev included, after newer versions arrive', async () => {
  const b = new MemoryBackend();
  const p = '/k8s/u/registry/';
  const c = new WatchCache(b, p);
  await c.ready();
  const start = c.rev;
  // A watcher that serializes events (as the API server's watch does) memoizes their JSON.
  c.addWatcher({ resource: 'configmaps', namespace: '', onEvents: (evs) => evs.forEach((e) => encodedJson(e)), onClose() {} });
  const key = `${p}configmaps/a/z`;
  await b.create(key, JSON.stringify({ metadata: { name: 'z', namespace: 'a' }, data: { v: '1' } }));
  await b.update(key, JSON.stringify({ metadata: { name: 'z', namespace: 'a' }, data: { v: '2' } }));
  const w3 = await b.update(key, JSON.stringify({ metadata: { name: 'z', namespace: 'a' }, data: { v: '3' } }));
  assert.equal(await c.waitFor(w3.revision), true);
  const evs = c.eventsSince(start, 'configmaps', '')!;
  assert.deepEqual(evs.map((e) => [e.type, e.obj.data.v, e.prev?.data.v, JSON.parse(encodedJson(e)).data.v]), [
    ['ADDED', '1', undefined, '1'],
    ['MODIFIED', '2', '1', '2'],
    ['MODIFIED', '3', '2', '3'],
  ]);
  assert.deepEqual(evs.map((e) => e.obj.metadata!.resourceVersion), [String(w3.revision - 2), String(w3.revision - 1), String(w3.revision)]);
  assert.equal(c.get(key)!.obj, evs[2]!.obj, 'the newest event shares the entry object');
  c.trim(Date.now() + 3_600_000);
  assert.equal(JSON.parse(encodedJson(evs[1]!)).data.v, '2');
  c.close();
  await b.close();
});

test('watch cache: equal managedFields subtrees and short strings are shared between objects, frozen, and serialize unchanged', async () => {
  const b = new MemoryBackend();
  const p = '/k8s/intern/registry/';
  const c = new WatchCache(b, p);
  await c.ready();
  const pod = (name: string, vol: string) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default',
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:volumes': { [`k:{"name":"${vol}"}`]: { '.': {}, 'f:name': {} } }, 'f:restartPolicy': {} } } }],
    },
    spec: { restartPolicy: 'Always' },
  });
  const raw = [JSON.stringify(pod('a', 'kube-api-access-1')), JSON.stringify(pod('b', 'kube-api-access-2'))];
  await b.create(`${p}pods/default/a`, raw[0]!);
  const w = await b.create(`${p}pods/default/b`, raw[1]!);
  await c.waitFor(w.revision);
  const [a, bb] = c.list('pods', 'default').map((e) => e.obj);
  const [ea] = c.list('pods', 'default');
  encodedJson(ea!);
  // Versions are interned once they have stayed current for a moment.
  for (const end = Date.now() + 10_000; !Object.isFrozen(bb!.metadata!.managedFields![0].fieldsV1); ) {
    assert.ok(Date.now() < end, 'interned within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const fa = a!.metadata!.managedFields![0].fieldsV1;
  const fb = bb!.metadata!.managedFields![0].fieldsV1;
  assert.notEqual(fa, fb, 'different volume keys: different roots');
  assert.equal(fa['f:metadata'], fb['f:metadata'], 'equal subtrees are one object');
  assert.equal(fa['f:spec']['f:restartPolicy'], fb['f:metadata']['f:labels']['f:app'], 'empty leaves are one object');
  assert.ok(Object.isFrozen(fa) && Object.isFrozen(fa['f:metadata']['f:labels']));
  assert.equal(ea!.json, undefined, 'nobody watches pods: the memoized JSON goes with the sweep');
  assert.throws(() => {
    fa['f:spec']['f:new'] = {};
  }, TypeError);
  // structuredClone copies (what writers mutate) are not frozen.
  const copy = structuredClone(a!);
  copy.metadata!.managedFields![0].fieldsV1['f:spec']['f:new'] = {};
  for (const [i, o] of [a!, bb!].entries()) {
    const { resourceVersion: _rv, ...meta } = o.metadata!;
    assert.deepEqual(JSON.parse(JSON.stringify({ ...o, metadata: meta })), JSON.parse(raw[i]!));
  }
  c.close();
  await b.close();
});

test('watch cache: history beyond its byte budget goes (watches from older revisions are served from the store)', async () => {
  const b = new MemoryBackend();
  const p = '/k8s/bytes/registry/';
  const c = new WatchCache(b, p, 50_000);
  await c.ready();
  const start = c.rev;
  const data = 'x'.repeat(1000);
  let last = 0;
  for (let i = 0; i < 300; i++) last = (await b.create(`${p}configmaps/a/cm-${i}`, JSON.stringify({ metadata: { name: `cm-${i}`, namespace: 'a' }, data: { data } }))).revision;
  await c.waitFor(last);
  assert.equal(c.eventsSince(start, 'configmaps', 'a'), undefined, 'the oldest events are gone');
  const kept = c.eventsSince(c.bufferStart, 'configmaps', 'a')!;
  assert.ok(kept.length >= 100 && kept.length <= 110, `kept ${kept.length}: the minimum, as the budget holds ~50`);
  assert.equal(kept.at(-1)!.rev, last);
  assert.equal(c.list('configmaps', 'a').length, 300, 'objects stay');
  c.close();
  await b.close();
});

test('mergeSorted applies replacements, removals and additions as a fresh sort would', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let round = 0; round < 200; round++) {
    const current = new Map<string, CacheEntry>();
    for (let i = 0; i < rnd(50); i++) {
      const key = `k${rnd(80)}`;
      current.set(key, { key, rev: i, obj: {} });
    }
    const arr = [...current.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const changes = new Map<string, CacheEntry | null>();
    const onlyReplace = round % 3 === 0;
    for (let i = 0; i < rnd(20); i++) {
      const key = onlyReplace && arr.length > 0 ? arr[rnd(arr.length)]!.key : `k${rnd(80)}`;
      if (!onlyReplace && rnd(3) === 0) {
        current.delete(key);
        changes.set(key, null);
      } else {
        const e = { key, rev: 1000 + i, obj: {} };
        current.set(key, e);
        changes.set(key, e);
      }
    }
    const want = [...current.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const before = [...arr];
    const got = mergeSorted(arr, changes);
    assert.deepEqual(got.map((e) => `${e.key}@${e.rev}`), want.map((e) => `${e.key}@${e.rev}`));
    assert.deepEqual(arr, before, 'the old array (a snapshot readers may hold) is unchanged');
  }
});

test('watch cache: lists stay sorted and current across writes and deletes after they were built', async () => {
  const b = new MemoryBackend();
  const p = '/k8s/sorted/registry/';
  const c = new WatchCache(b, p);
  await c.ready();
  const put = (ns: string, n: string, v: string) => b.put(`${p}configmaps/${ns}/${n}`, JSON.stringify({ metadata: { name: n, namespace: ns }, data: { v } }));
  for (const n of ['m', 'c', 'x']) await put('a', n, '1');
  await put('b', 'q', '1');
  await c.waitFor(await b.currentRevision());
  const first = c.list('configmaps', '');
  assert.deepEqual(c.list('configmaps', 'a').map((e) => e.obj.metadata!.name), ['c', 'm', 'x']);
  await put('a', 'm', '2');
  await put('a', 'a', '1');
  await b.delete(`${p}configmaps/a/x`);
  await put('b', 'z', '1');
  await c.waitFor(await b.currentRevision());
  assert.deepEqual(c.list('configmaps', 'a').map((e) => `${e.obj.metadata!.name}=${e.obj.data.v}`), ['a=1', 'c=1', 'm=2']);
  assert.deepEqual(c.list('configmaps', '').map((e) => e.key.slice(p.length)), ['configmaps/a/a', 'configmaps/a/c', 'configmaps/a/m', 'configmaps/b/q', 'configmaps/b/z']);
  assert.deepEqual(first.map((e) => e.key.slice(p.length)), ['configmaps/a/c', 'configmaps/a/m', 'configmaps/a/x', 'configmaps/b/q'], 'a list handed out before is a snapshot');
  for (const n of ['a', 'c', 'm']) await b.delete(`${p}configmaps/a/${n}`);
  await c.waitFor(await b.currentRevision());
  assert.deepEqual(c.list('configmaps', 'a'), []);
  assert.equal(c.count('configmaps'), 2);
  c.close();
  await b.close();
});
