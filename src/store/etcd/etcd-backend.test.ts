import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isStoreError, type WriteResult } from '../backend.ts';
import { record, runBackendSuite, uniquePrefix, waitFor } from '../conformance.ts';
import { EtcdBackend } from './etcd-backend.ts';
import { type EtcdServer, etcdMissing, startEtcd } from './etcd-server.ts';

const missing = etcdMissing();
if (missing) console.log(`# skipping the etcd backend tests: ${missing}`);
let server: EtcdServer | undefined;
before(async () => {
  if (!missing) server = await startEtcd();
});
after(async () => {
  await server?.stop();
});
const open = () => EtcdBackend.open({ hosts: [server!.host], compaction: false });

runBackendSuite('etcd', open, {
  skip: missing ?? false,
  // The etcd server outlives each client; "data dirs" are unused.
  persistence: {
    get spec() {
      return `etcd://${server!.host}`;
    },
    newDataDir: () => '',
  },
});

test('etcd: a watch from now on an idle client survives compaction by another client', { skip: missing ?? false }, async () => {
  const idle = await open();
  const busy = await open();
  const p = uniquePrefix();
  for (let i = 0; i < 5; i++) await busy.put(p + 'k', String(i));
  await busy.compact(await busy.currentRevision());
  const w = record(idle, p);
  await waitFor('the watch to be established', async () => {
    await busy.put(p + 'probe', 'x');
    return w.events.length > 0 || w.errors.length > 0;
  });
  assert.deepEqual(w.errors, []);
  const r = await busy.put(p + 'k', 'after');
  await waitFor('the event', () => w.events.some((e) => e.kv.modRevision === r.revision));
  w.cancel();
  await idle.close();
  await busy.close();
});

test('etcd: a range larger than gRPC default message size', { skip: missing ?? false }, async () => {
  const b = await open();
  const p = uniquePrefix();
  const big = 'x'.repeat(100_000);
  for (let i = 0; i < 6; i++) await b.txn(Array.from({ length: 10 }, (_, j) => ({ op: 'put' as const, key: `${p}${i}-${j}`, value: big })));
  const r = await b.range({ prefix: p });
  assert.equal(r.kvs.length, 60);
  await b.close();
});

test('etcd: the empty prefix ranges and watches every key', { skip: missing ?? false }, async () => {
  const b = await open();
  const p = uniquePrefix();
  const w = record(b, '');
  const r = await b.put(p + 'k', 'v');
  const all = await b.range({ prefix: '', countOnly: true });
  assert.ok(all.count >= 1);
  await waitFor('the event', () => w.events.some((e) => e.kv.modRevision === r.revision));
  w.cancel();
  await b.close();
});

test('etcd: watches resume after etcd restarts, without gaps or repeats', { skip: missing ?? false }, async () => {
  const b = await open();
  const p = uniquePrefix();
  const w = record(b, p);
  const acked: WriteResult[] = [];
  for (let i = 0; i < 10; i++) acked.push(await b.put(`${p}k${i % 3}`, `a${i}`));
  await server!.restart();
  for (let i = 0; i < 10; i++) {
    // Until the client reconnects, writes fail with Unavailable; retry them.
    for (const deadline = Date.now() + 30_000; ; ) {
      try {
        acked.push(await b.put(`${p}k${i % 3}`, `b${i}`));
        break;
      } catch (e) {
        if (!isStoreError(e, 'Unavailable') || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const last = acked.at(-1)!.revision;
  await waitFor('events up to the last acked write', () => w.events.some((e) => e.kv.modRevision === last), 40_000);
  assert.deepEqual(w.errors, []);
  const revs = w.events.map((e) => e.kv.modRevision);
  for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, `events out of order or repeated: ${revs.join(',')}`);
  const seen = new Set(revs);
  for (const a of acked) assert.ok(seen.has(a.revision), `acked write at ${a.revision} never reached the watcher`);
  w.cancel();
  await b.close();
});
