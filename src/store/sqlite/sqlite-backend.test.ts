import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { isStoreError } from '../backend.ts';
import { record, runBackendSuite, waitFor } from '../conformance.ts';
import { SqliteBackend } from './sqlite-backend.ts';

const root = mkdtempSync(join(tmpdir(), 'localeks-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `db-${n++}`);

runBackendSuite('sqlite', (dir) => SqliteBackend.open({ dir: dir ?? freshDir(), compaction: false, leaseSweepMs: 50 }), {
  persistence: { spec: 'sqlite', newDataDir: freshDir },
});

test('sqlite: revisions never go back, even when compaction removed the newest row', async () => {
  const dir = freshDir();
  let b = await SqliteBackend.open({ dir, compaction: false });
  await b.put('/r/a', '1');
  await b.delete('/r/a');
  const top = await b.currentRevision();
  await b.compact(top);
  await b.close();
  b = await SqliteBackend.open({ dir, compaction: false });
  assert.equal(await b.currentRevision(), top);
  assert.ok((await b.put('/r/d', 'd')).revision > top);
  await b.close();
});

test('sqlite: compaction removes superseded rows in batches and keeps reads at the compaction point', async () => {
  const dir = freshDir();
  const b = await SqliteBackend.open({ dir, compaction: false, compactBatchSize: 3 });
  for (let i = 0; i < 20; i++) await b.put(`/c/k${i % 4}`, String(i));
  await b.put('/c/del', 'x');
  await b.delete('/c/del');
  const rc = await b.currentRevision();
  const before = await b.range({ prefix: '/c/', revision: rc });
  await b.put('/c/k0', 'after');
  await b.compact(rc);
  const db = new Database(join(dir, 'state.db'), { readonly: true });
  const rows = db.prepare('SELECT count(*) FROM kine').pluck().get();
  db.close();
  assert.equal(rows, 5, 'one row per live key at the compaction point, plus the newer write');
  assert.deepEqual(await b.range({ prefix: '/c/', revision: rc }), before);
  await assert.rejects(b.get('/c/k0', { revision: rc - 1 }), (e) => isStoreError(e, 'Compacted'));
  await b.close();
});

test('sqlite: periodic compaction keeps the configured window', async () => {
  const b = await SqliteBackend.open({ dir: freshDir(), compaction: { intervalMs: 10, minRetainRevisions: 5 } });
  for (let i = 0; i < 30; i++) await b.put('/p/k', String(i));
  await waitFor('a periodic compaction', async () => (await b.compactRevision()) > 0);
  const cr = await b.compactRevision();
  assert.ok(cr <= (await b.currentRevision()) - 5, `compacted to ${cr}`);
  assert.equal((await b.get('/p/k')).kv?.value, '29');
  await b.close();
});

test('sqlite: a lease that expired while the store was closed deletes its keys after reopen', async () => {
  const dir = freshDir();
  let b = await SqliteBackend.open({ dir, compaction: false });
  const lease = await b.grantLease(1);
  await b.create('/l/a', 'x', { lease });
  await b.create('/l/b', 'y');
  await b.close();
  const expired = Date.now() + 1000;
  await waitFor('the lease TTL to pass', () => Date.now() > expired, 5000);
  b = await SqliteBackend.open({ dir, compaction: false, leaseSweepMs: 20 });
  await waitFor('the leased key to go', async () => (await b.get('/l/a')).kv === undefined);
  assert.equal((await b.get('/l/b')).kv?.value, 'y');
  await assert.rejects(b.keepAliveLease(lease), (e) => isStoreError(e, 'LeaseNotFound'));
  await b.close();
});

test('sqlite: a write that fails inside SQLite fails alone; the rest of its batch commits', async () => {
  const b = await SqliteBackend.open({ dir: freshDir(), compaction: false });
  const r0 = await b.currentRevision();
  const w = record(b, '/f/');
  const bad = b.put('/f/bad', {} as unknown as string); // better-sqlite3 refuses to bind an object
  const good = Array.from({ length: 5 }, (_, i) => b.put(`/f/g${i}`, String(i)));
  await assert.rejects(bad);
  const results = await Promise.all(good);
  assert.deepEqual(
    results.map((r) => r.revision),
    [r0 + 1, r0 + 2, r0 + 3, r0 + 4, r0 + 5],
  );
  assert.equal(await b.currentRevision(), r0 + 5);
  assert.equal((await b.get('/f/bad')).kv, undefined);
  await waitFor('five events', () => w.events.length >= 5);
  assert.deepEqual(
    w.events.map((e) => e.kv.modRevision),
    [r0 + 1, r0 + 2, r0 + 3, r0 + 4, r0 + 5],
  );
  w.cancel();
  await b.close();
});

test('sqlite: a compaction cut short by close finishes after reopen', async () => {
  const dir = freshDir();
  let b = await SqliteBackend.open({ dir, compaction: false, compactBatchSize: 1 });
  for (let i = 0; i < 40; i++) await b.put(`/cc/k${i % 2}`, String(i));
  const rc = await b.currentRevision();
  const compacting = b.compact(rc).catch(() => {});
  await b.close();
  await compacting;
  const rows = () => {
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM kine').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  assert.ok(rows() > 2, 'the pass was cut short');
  b = await SqliteBackend.open({ dir, compaction: false });
  assert.equal(await b.compactRevision(), rc);
  await waitFor('the pass to finish', () => rows() === 2);
  assert.deepEqual(
    (await b.range({ prefix: '/cc/' })).kvs.map((kv) => kv.value),
    ['38', '39'],
  );
  await b.close();
});

test('sqlite: the database and its WAL are readable by the owner only (they hold keys)', async () => {
  const dir = freshDir();
  const b = await SqliteBackend.open({ dir, compaction: false });
  await b.put('/k/secret', 'key material');
  for (const f of ['state.db', 'state.db-wal']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  await b.close();
});

test('sqlite: a committed batch is invisible (reads, revision, watchers) until the sync of its WAL returns', async () => {
  const b = await SqliteBackend.open({ dir: freshDir(), compaction: false });
  await b.put('/t/other', 'x');
  await b.put('/s/a', '1');
  const rev0 = await b.currentRevision();
  const early: string[] = [];
  b.watch('/s/', { afterRevision: 0 }, { onEvents: (evs) => early.push(...evs.map((e) => e.kv.value)), onError() {} });
  const pending = b.put('/s/a', '2');
  // The batch commits in the first check phase; its sync cannot return before the next poll phase.
  const during = await new Promise<{ rev: number; get?: string; range: string[]; late: string[] }>((resolve) =>
    setImmediate(() => {
      const late: string[] = [];
      // A watch from before the write, started in the window: no history beyond the synced revision, then the event once.
      b.watch('/s/', { afterRevision: rev0 - 1 }, { onEvents: (evs) => late.push(...evs.map((e) => e.kv.value)), onError() {} });
      void Promise.all([b.currentRevision(), b.get('/s/a'), b.range({ prefix: '/s/' })]).then(([rev, g, r]) =>
        resolve({ rev, get: g.kv?.value, range: r.kvs.map((kv) => kv.value), late }),
      );
    }),
  );
  assert.equal(during.rev, rev0, 'the revision is the synced one');
  assert.equal(during.get, '1');
  assert.deepEqual(during.range, ['1']);
  assert.deepEqual(early, [], 'watchers hear of the write only once it is durable');
  const w = await pending;
  assert.equal(w.revision, rev0 + 1);
  assert.equal((await b.get('/s/a')).kv?.value, '2');
  await waitFor('both watchers', () => early.length === 1 && during.late.length === 2);
  assert.deepEqual(early, ['2']);
  assert.deepEqual(during.late, ['1', '2'], 'history up to the synced revision, then the write, once');
  await b.close();
});

test('sqlite: the checkpoint worker copies the WAL into the database file while the store is open', async () => {
  const dir = freshDir();
  const b = await SqliteBackend.open({ dir, compaction: false });
  const file = join(dir, 'state.db');
  const before = statSync(file).size;
  // Far fewer pages than SQLite's automatic checkpoint (1000 WAL pages) would wait for.
  for (let i = 0; i < 50; i++) await b.put(`/w/k${i}`, 'x'.repeat(100));
  await waitFor('a checkpoint by the worker', () => statSync(file).size > before, 10_000);
  assert.equal((await b.get('/w/k49')).kv?.value, 'x'.repeat(100));
  await b.close();
});
