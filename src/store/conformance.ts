/**
 * The conformance suite every Backend passes (kubernetes/apiserver's
 * pkg/storage/testing plays this role for etcd3 and the watch cache).
 * `runBackendSuite(name, makeBackend)` registers node:test tests; each test
 * opens its own backend with makeBackend() and uses its own key prefix, so
 * backends that share a server (etcd) stay isolated, and only relative
 * revisions are asserted. Timing is never asserted: waits poll with a deadline.
 *
 * Usage (in a *.test.ts file):
 *   runBackendSuite('memory', async () => new MemoryBackend());
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Backend, isStoreError, type KeyValue, type StoreError, type StoreErrorCode, type WatchEvent, type WriteResult } from './backend.ts';

export interface BackendSuiteOptions {
  /** Skip every test with this reason (e.g. the etcd binary is missing). */
  skip?: string | false;
  /** How long lease expiry may take before the test fails (default 20 s). */
  leaseDeadlineMs?: number;
  /**
   * For backends whose state outlives the process: the open.ts spec of the
   * store makeBackend(dataDir) opens, and a fresh data dir per test. Enables
   * the restart test and the kill -9 test (a child process writes through
   * openBackend(spec, {dataDir}) and is killed; every acked write must be
   * there after reopening).
   */
  persistence?: { spec: string; newDataDir(): string };
}

/** A watch whose events and errors tests can inspect. */
export interface Recorder {
  events: WatchEvent[];
  errors: StoreError[];
  cancel(): void;
}

/** record starts a watch that keeps everything it receives. */
export function record(b: Backend, prefix: string, afterRevision = 0): Recorder {
  const r: Recorder = { events: [], errors: [], cancel: () => {} };
  const w = b.watch(prefix, { afterRevision }, { onEvents: (evs) => r.events.push(...evs), onError: (e) => r.errors.push(e) });
  r.cancel = () => w.cancel();
  return r;
}

/** waitFor polls cond until it holds or the deadline passes (then it throws with what). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** uniquePrefix gives each test its own key space. */
export function uniquePrefix(): string {
  return `/conformance/${randomBytes(6).toString('hex')}/`;
}

const code = (c: StoreErrorCode) => (e: unknown) => isStoreError(e, c);
const short = (e: WatchEvent) => `${e.type}:${e.kv.key}@${e.kv.modRevision}`;

/** Strips a KeyValue to the fields every backend agrees on. */
function kvOf(kv: KeyValue | undefined) {
  return kv && { key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease };
}

/**
 * runBackendSuite registers the conformance tests for one backend.
 * makeBackend(dataDir) opens a backend; backends with persistence open the
 * store in dataDir (a fresh one when undefined), others ignore it.
 */
export function runBackendSuite(name: string, makeBackend: (dataDir?: string) => Promise<Backend>, opts: BackendSuiteOptions = {}): void {
  const it = (title: string, fn: (b: Backend, p: string) => Promise<void>) =>
    test(title, async () => {
      const b = await makeBackend();
      try {
        await fn(b, uniquePrefix());
      } finally {
        await b.close();
      }
    });

  describe(`backend conformance: ${name}`, { skip: opts.skip || false }, () => {
    it('create, get, update, put, delete keep etcd key metadata', async (b, p) => {
      const r0 = await b.currentRevision();
      const c = await b.create(p + 'a', '1');
      assert.ok(c.revision > r0);
      assert.deepEqual(kvOf(c.kv), { key: p + 'a', value: '1', createRevision: c.revision, modRevision: c.revision, version: 1, lease: 0 });
      assert.equal(c.prevKv, undefined);
      const g = await b.get(p + 'a');
      assert.ok(g.revision >= c.revision);
      assert.deepEqual(kvOf(g.kv), kvOf(c.kv));

      const u = await b.update(p + 'a', '2', { expectedModRevision: c.revision });
      assert.ok(u.revision > c.revision);
      assert.deepEqual(kvOf(u.kv), { key: p + 'a', value: '2', createRevision: c.revision, modRevision: u.revision, version: 2, lease: 0 });
      assert.deepEqual(kvOf(u.prevKv), kvOf(c.kv));
      const u2 = await b.update(p + 'a', '3');
      assert.equal(u2.kv.version, 3);

      const p1 = await b.put(p + 'b', 'x');
      assert.equal(p1.kv.version, 1);
      assert.equal(p1.prevKv, undefined);
      const p2 = await b.put(p + 'b', 'y');
      assert.equal(p2.kv.version, 2);
      assert.equal(p2.prevKv?.value, 'x');

      const d = await b.delete(p + 'a', { expectedModRevision: u2.revision });
      assert.ok(d.revision > p2.revision);
      assert.equal(d.kv.key, p + 'a');
      assert.equal(d.kv.modRevision, d.revision);
      assert.deepEqual(kvOf(d.prevKv), kvOf(u2.kv));
      assert.equal((await b.get(p + 'a')).kv, undefined);
      assert.equal(await b.currentRevision(), d.revision);

      const again = await b.create(p + 'a', 'new');
      assert.deepEqual(kvOf(again.kv), { key: p + 'a', value: 'new', createRevision: again.revision, modRevision: again.revision, version: 1, lease: 0 });
      assert.equal(again.prevKv, undefined);
    });

    it('failed conditions throw the right StoreError, with current, and change nothing', async (b, p) => {
      const c = await b.create(p + 'k', 'v1');
      const u = await b.update(p + 'k', 'v2');
      const before = await b.currentRevision();
      await assert.rejects(b.create(p + 'k', 'again'), (e) => isStoreError(e, 'KeyExists') && e.current?.value === 'v2' && e.current.modRevision === u.revision);
      await assert.rejects(b.update(p + 'missing', 'x'), code('KeyNotFound'));
      await assert.rejects(b.delete(p + 'missing'), code('KeyNotFound'));
      await assert.rejects(
        b.update(p + 'k', 'x', { expectedModRevision: c.revision }),
        (e) => isStoreError(e, 'Conflict') && e.current?.modRevision === u.revision && e.current.value === 'v2',
      );
      await assert.rejects(b.delete(p + 'k', { expectedModRevision: c.revision }), (e) => isStoreError(e, 'Conflict') && e.current?.value === 'v2');
      await assert.rejects(b.create(p + 'leased', 'x', { lease: 987654321 }), code('LeaseNotFound'));
      assert.equal(await b.currentRevision(), before);
      assert.equal((await b.get(p + 'k')).kv?.value, 'v2');
      assert.equal((await b.get(p + 'leased')).kv, undefined);
    });

    it('txn applies every operation or none', async (b, p) => {
      await b.create(p + 'exists', '0');
      const w = record(b, p);
      const before = await b.currentRevision();
      await assert.rejects(
        b.txn([
          { op: 'create', key: p + 'x', value: '1' },
          { op: 'create', key: p + 'exists', value: '1' },
        ]),
        code('KeyExists'),
      );
      await assert.rejects(
        b.txn([
          { op: 'put', key: p + 'x', value: '1' },
          { op: 'update', key: p + 'exists', value: '1', expectedModRevision: before + 1000 },
        ]),
        code('Conflict'),
      );
      await assert.rejects(
        b.txn([
          { op: 'put', key: p + 'x', value: '1' },
          { op: 'delete', key: p + 'x' },
        ]),
        TypeError,
      );
      assert.equal(await b.currentRevision(), before);
      assert.equal((await b.get(p + 'x')).kv, undefined);

      const cur = (await b.get(p + 'exists')).kv!;
      await b.create(p + 'gone', 'g');
      const t = await b.txn([
        { op: 'create', key: p + 'x', value: '1' },
        { op: 'update', key: p + 'exists', value: '2', expectedModRevision: cur.modRevision },
        { op: 'delete', key: p + 'gone' },
        { op: 'put', key: p + 'y', value: 'y' },
      ]);
      assert.equal(t.results.length, 4);
      const revs = t.results.map((r) => r.revision);
      assert.ok(revs[0]! > before + 1);
      for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! >= revs[i - 1]!, 'txn results have non-decreasing revisions');
      assert.equal(t.revision, Math.max(...revs));
      assert.equal(t.results[1]!.prevKv?.value, '0');
      assert.equal(t.results[2]!.prevKv?.value, 'g');
      assert.equal((await b.get(p + 'x')).kv?.value, '1');
      assert.equal((await b.get(p + 'exists')).kv?.value, '2');
      assert.equal((await b.get(p + 'gone')).kv, undefined);
      assert.equal(await b.currentRevision(), t.revision);
      await waitFor('txn events', () => w.events.length >= 5);
      assert.deepEqual(
        w.events.map((e) => `${e.type}:${e.kv.key.slice(p.length)}`),
        ['put:gone', 'put:x', 'put:exists', 'delete:gone', 'put:y'],
      );
      w.cancel();
    });

    it('a txn of 500 operations applies as one', async (b, p) => {
      const w = record(b, p);
      const t = await b.txn(Array.from({ length: 500 }, (_, i) => ({ op: 'create' as const, key: `${p}${String(i).padStart(3, '0')}`, value: 'x'.repeat(200) })));
      assert.equal(t.results.length, 500);
      assert.equal((await b.range({ prefix: p, countOnly: true })).count, 500);
      await waitFor('500 events', () => w.events.length >= 500);
      assert.deepEqual(
        w.events.map((e) => e.kv.key),
        t.results.map((r) => r.kv.key),
      );
      w.cancel();
    });

    it('range: prefix, key order, limit, continuation, count, deleted keys', async (b, p) => {
      const names = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      const shuffled = [...names].sort(() => Math.random() - 0.5);
      await Promise.all(shuffled.map((n) => b.create(`${p}r/${n}`, n)));
      await b.create(`${p}rx`, 'outside');
      await b.create(`${p}r/zz-deleted`, 'x');
      await b.delete(`${p}r/zz-deleted`);

      const all = await b.range({ prefix: p + 'r/' });
      assert.deepEqual(
        all.kvs.map((kv) => kv.value),
        names,
      );
      assert.equal(all.count, 25);
      assert.equal(all.more, false);
      assert.equal(all.revision, await b.currentRevision());

      const keys: string[] = [];
      let after: string | undefined;
      const counts: number[] = [];
      for (;;) {
        const page = await b.range({ prefix: p + 'r/', limit: 10, after });
        keys.push(...page.kvs.map((kv) => kv.value));
        counts.push(page.count);
        if (!page.more) break;
        assert.equal(page.kvs.length, 10);
        after = page.kvs.at(-1)!.key;
      }
      assert.deepEqual(keys, names);
      assert.deepEqual(counts, [25, 15, 5]);

      const c = await b.range({ prefix: p + 'r/', countOnly: true });
      assert.deepEqual([c.count, c.kvs.length], [25, 0]);
      const none = await b.range({ prefix: p + 'nothing/' });
      assert.deepEqual([none.count, none.kvs.length, none.more], [0, 0, false]);
    });

    it('reads at old revisions, and FutureRevision', async (b, p) => {
      const r1 = (await b.create(p + 'a', '1')).revision;
      const r2 = (await b.update(p + 'a', '2')).revision;
      const r3 = (await b.create(p + 'b', 'b')).revision;
      const r4 = (await b.delete(p + 'a')).revision;
      assert.equal((await b.get(p + 'a', { revision: r1 })).kv?.value, '1');
      assert.equal((await b.get(p + 'a', { revision: r2 })).kv?.value, '2');
      assert.equal((await b.get(p + 'a', { revision: r4 })).kv, undefined);
      const at3 = await b.range({ prefix: p, revision: r3 });
      assert.equal(at3.revision, r3);
      assert.deepEqual(
        at3.kvs.map((kv) => `${kv.key.slice(p.length)}=${kv.value}@${kv.modRevision}`),
        [`a=2@${r2}`, `b=b@${r3}`],
      );
      assert.equal((await b.range({ prefix: p, revision: r1, countOnly: true })).count, 1);
      const page = await b.range({ prefix: p, revision: r3, limit: 1 });
      assert.deepEqual([page.kvs.length, page.more, page.count], [1, true, 2]);
      const cur = await b.currentRevision();
      await assert.rejects(b.get(p + 'a', { revision: cur + 1000 }), code('FutureRevision'));
      await assert.rejects(b.range({ prefix: p, revision: cur + 1000 }), code('FutureRevision'));
    });

    it('count and pages at every past revision agree with the full listing', async (b, p) => {
      const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => p + k);
      const revs: number[] = [];
      let seed = 7;
      const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
      for (let i = 0; i < 40; i++) {
        const k = keys[rnd(keys.length)]!;
        const cur = (await b.get(k)).kv;
        if (i === 25) await b.compact(await b.currentRevision());
        const r = !cur ? await b.create(k, String(i)) : rnd(3) === 0 ? await b.delete(k) : await b.update(k, String(i));
        revs.push(r.revision);
      }
      const from = await b.compactRevision();
      for (const rev of revs.filter((r) => r >= from)) {
        const all = await b.range({ prefix: p, revision: rev });
        assert.equal(all.count, all.kvs.length);
        for (const after of [undefined, p + 'b', p + 'c0']) {
          const want = all.kvs.filter((kv) => after === undefined || kv.key > after);
          const c = await b.range({ prefix: p, revision: rev, after, countOnly: true });
          assert.equal(c.count, want.length, `count at ${rev} after ${after}`);
          const page = await b.range({ prefix: p, revision: rev, after, limit: 2 });
          assert.deepEqual(
            page.kvs.map((kv) => kv.key),
            want.slice(0, 2).map((kv) => kv.key),
          );
          assert.deepEqual([page.count, page.more], [want.length, want.length > 2], `page at ${rev} after ${after}`);
        }
      }
    });

    it('compaction: old reads and watches fail with Compacted, newer ones work', async (b, p) => {
      await b.create(p + 'a', '1');
      await b.create(p + 'gone', 'x');
      await b.update(p + 'a', '2');
      await b.delete(p + 'gone');
      const rc = (await b.put(p + 'b', 'b')).revision;
      const later = await b.update(p + 'a', '3');
      await b.compact(rc);
      assert.equal(await b.compactRevision(), rc);
      await assert.rejects(b.get(p + 'a', { revision: rc - 2 }), (e) => isStoreError(e, 'Compacted') && e.compactRevision === rc);
      await assert.rejects(b.range({ prefix: p, revision: rc - 2 }), code('Compacted'));
      const atRc = await b.range({ prefix: p, revision: rc });
      assert.deepEqual(
        atRc.kvs.map((kv) => `${kv.key.slice(p.length)}=${kv.value}`),
        ['a=2', 'b=b'],
      );
      assert.equal((await b.get(p + 'a')).kv?.value, '3');

      const old = record(b, p, rc - 2);
      await waitFor('Compacted error', () => old.errors.length > 0);
      assert.equal(old.errors[0]!.code, 'Compacted');
      assert.equal(old.events.length, 0);

      const fromRc = record(b, p, rc);
      const next = await b.delete(p + 'b');
      await waitFor('events after the compaction point', () => fromRc.events.length >= 2);
      assert.deepEqual(fromRc.events.map(short), [`put:${p}a@${later.revision}`, `delete:${p}b@${next.revision}`]);
      assert.equal(fromRc.events[0]!.prevKv?.value, '2');
      assert.deepEqual(fromRc.errors, []);
      fromRc.cancel();

      await b.compact(rc - 1); // older than the compaction point: no-op
      assert.equal(await b.compactRevision(), rc);
      await assert.rejects(b.compact((await b.currentRevision()) + 100), code('FutureRevision'));
    });

    it('watch: live events with prevKv, prefix filter, cancel', async (b, p) => {
      const w = record(b, p + 'w/');
      const other = record(b, p + 'other/');
      const c = await b.create(p + 'w/a', '1');
      await b.create(p + 'outside', 'x');
      const u = await b.update(p + 'w/a', '2');
      const d = await b.delete(p + 'w/a');
      await waitFor('three events', () => w.events.length >= 3);
      const [e1, e2, e3] = w.events;
      assert.deepEqual([e1!.type, kvOf(e1!.kv), e1!.prevKv], ['put', kvOf(c.kv), undefined]);
      assert.deepEqual([e2!.type, kvOf(e2!.kv), kvOf(e2!.prevKv)], ['put', kvOf(u.kv), kvOf(c.kv)]);
      assert.equal(e3!.type, 'delete');
      assert.equal(e3!.kv.key, p + 'w/a');
      assert.equal(e3!.kv.modRevision, d.revision);
      assert.deepEqual(kvOf(e3!.prevKv), kvOf(u.kv));
      w.cancel();
      await b.create(p + 'w/after-cancel', 'x');
      await b.create(p + 'other/x', 'x');
      await waitFor('the other watcher', () => other.events.length >= 1);
      assert.equal(w.events.length, 3);
      assert.deepEqual(w.errors, []);
      other.cancel();
    });

    it('deleteRange: every key under the prefixes at once, a delete event per key in key order, nothing else', async (b, p) => {
      const empty = await b.deleteRange([p + 'nothing/']);
      assert.deepEqual(empty, { revision: await b.currentRevision(), deleted: [] });
      const keys = ['x/b', 'x/a', 'x/c/d', 'y/1', 'z/keep', 'x'];
      const written = new Map<string, WriteResult>();
      for (const k of keys) written.set(p + k, await b.put(p + k, `v-${k}`));
      await b.update(p + 'x/a', 'v2');
      const before = await b.currentRevision();
      const all = record(b, p, before);
      const onlyY = record(b, p + 'y/', before);
      // A prefix inside another (x/c/) is covered by it; x itself is not under x/.
      const r = await b.deleteRange([p + 'y/', p + 'x/', p + 'x/c/']);
      assert.deepEqual(r.deleted.map((kv) => kv.key), [p + 'x/a', p + 'x/b', p + 'x/c/d', p + 'y/1']);
      assert.equal(r.deleted[0]!.value, 'v2', 'deleted gives the last states');
      assert.equal(r.deleted[1]!.modRevision, written.get(p + 'x/b')!.revision);
      assert.ok(r.revision > before);
      assert.equal(r.revision, await b.currentRevision());
      await waitFor('four delete events', () => all.events.length >= 4 && onlyY.events.length >= 1);
      assert.deepEqual(all.events.map((e) => `${e.type}:${e.kv.key}`), r.deleted.map((kv) => `delete:${kv.key}`));
      let last = before;
      for (const e of all.events) {
        assert.ok(e.kv.modRevision > before && e.kv.modRevision <= r.revision && e.kv.modRevision >= last, 'revisions non-decreasing, within the delete');
        last = e.kv.modRevision;
        assert.equal(e.prevKv?.value, (await b.get(e.kv.key, { revision: before })).kv?.value, 'prevKv is the deleted state');
      }
      assert.deepEqual(onlyY.events.map(short), [`delete:${p}y/1@${all.events[3]!.kv.modRevision}`]);
      // Replayed from history, the deletes are the same events, values included.
      const replay = record(b, p, before);
      await waitFor('the replayed deletes', () => replay.events.length >= 4);
      const full = (e: WatchEvent) => `${e.type}:${e.kv.key}@${e.kv.modRevision}=${e.kv.value}<${e.prevKv?.value}`;
      assert.deepEqual(replay.events.slice(0, 4).map(full), all.events.slice(0, 4).map(full));
      assert.equal(all.events[0]!.kv.value, 'v2', 'a delete event carries the deleted value');
      replay.cancel();
      const left = await b.range({ prefix: p });
      assert.deepEqual(left.kvs.map((kv) => kv.key), [p + 'x', p + 'z/keep']);
      assert.equal((await b.get(p + 'x/a', { revision: before })).kv?.value, 'v2', 'history before the delete stays readable');
      // A key deleted by range can be created again, as a new incarnation.
      const again = await b.create(p + 'x/a', 'new');
      assert.equal(again.kv.version, 1);
      // A later write is seen after every delete event.
      await waitFor('the create', () => all.events.length >= 5);
      assert.equal(all.events[4]!.type, 'put');
      all.cancel();
      onlyY.cancel();
    });

    it('watch from a past revision replays history, then live events, exactly once', async (b, p) => {
      const r1 = (await b.create(p + 'a', '1')).revision;
      const writes: WriteResult[] = [];
      for (let i = 0; i < 5; i++) writes.push(await b.put(p + (i % 2 ? 'a' : 'b'), String(i)));
      const w = record(b, p, r1);
      for (let i = 0; i < 5; i++) writes.push(await b.put(p + 'c', String(i)));
      await waitFor('ten events', () => w.events.length >= 10);
      assert.deepEqual(
        w.events.map(short),
        writes.map((r) => `put:${r.kv.key}@${r.revision}`),
      );
      assert.equal(w.events[1]!.prevKv?.value, '1', 'history events carry prevKv');
      const now = record(b, p, await b.currentRevision());
      const last = await b.put(p + 'd', 'x');
      await waitFor('the live event', () => now.events.length >= 1 && w.events.length >= 11);
      assert.deepEqual(now.events.map(short), [`put:${p}d@${last.revision}`]);
      w.cancel();
      now.cancel();
    });

    it('many watchers see every event of many concurrent writers, in order, exactly once', async (b, p) => {
      const counter = p + 'counter';
      const rev0 = (await b.create(counter, '0')).revision;
      const early = Array.from({ length: 12 }, () => record(b, p));
      const acked: Array<{ revision: number; events: string[] }> = [];
      const note = (results: WriteResult[], types: Array<'put' | 'delete'>) =>
        acked.push({ revision: results[0]!.revision, events: results.map((r, i) => `${types[i]}:${r.kv.key}@${r.kv.modRevision}`) });
      let late: Recorder[] = [];
      let increments = 0;
      const writer = async (w: number) => {
        for (let i = 0; i < 12; i++) {
          const k = `${p}w${w}/k${i}`;
          const c = await b.create(k, 'v0');
          note([c], ['put']);
          const u = await b.update(k, 'v1', { expectedModRevision: c.revision });
          note([u], ['put']);
          if (i % 3 === 0) {
            const t = await b.txn([
              { op: 'delete', key: k, expectedModRevision: u.revision },
              { op: 'put', key: k + '-moved', value: 'v2' },
            ]);
            note(t.results, ['delete', 'put']);
          }
          if (w === 0 && i === 4) late = Array.from({ length: 8 }, () => record(b, p, rev0));
          // CAS increment of a shared counter, retried on Conflict.
          for (;;) {
            const cur = (await b.get(counter)).kv!;
            try {
              const r = await b.update(counter, String(Number(cur.value) + 1), { expectedModRevision: cur.modRevision });
              note([r], ['put']);
              increments++;
              break;
            } catch (e) {
              if (!isStoreError(e, 'Conflict')) throw e;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
      acked.sort((x, y) => x.revision - y.revision);
      const expected = acked.flatMap((a) => a.events);
      assert.equal((await b.get(counter)).kv?.value, String(increments));
      const watchers = [...early, ...late];
      assert.equal(watchers.length, 20);
      await waitFor('every watcher to catch up', () => watchers.every((w) => w.events.length >= expected.length), 40_000);
      for (const w of watchers) {
        assert.deepEqual(w.errors, []);
        assert.deepEqual(w.events.map(short), expected);
        w.cancel();
      }
    });

    it('concurrent creates of one key: exactly one wins, others fail alone', async (b, p) => {
      const same = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => b.create(p + 'same', String(i))));
      const distinct = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => b.create(`${p}d${i}`, String(i))));
      assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of same) if (r.status === 'rejected') assert.ok(isStoreError(r.reason, 'KeyExists'), String(r.reason));
      assert.equal(distinct.filter((r) => r.status === 'fulfilled').length, 30);
      assert.equal((await b.range({ prefix: p, countOnly: true })).count, 31);
    });

    it('leases: attach, keep alive, revoke deletes keys', async (b, p) => {
      const id = await b.grantLease(60);
      assert.ok(Number.isSafeInteger(id) && id > 0);
      const w = record(b, p);
      const k = await b.create(p + 'leased', 'x', { lease: id });
      assert.equal(k.kv.lease, id);
      assert.equal((await b.get(p + 'leased')).kv?.lease, id);
      await b.put(p + 'leased2', 'y', { lease: id });
      await b.keepAliveLease(id);
      await b.revokeLease(id);
      assert.equal((await b.get(p + 'leased')).kv, undefined);
      assert.equal((await b.get(p + 'leased2')).kv, undefined);
      await waitFor('delete events', () => w.events.length >= 4);
      assert.deepEqual(
        w.events.map((e) => e.type).sort(),
        ['delete', 'delete', 'put', 'put'],
      );
      await assert.rejects(b.keepAliveLease(id), code('LeaseNotFound'));
      await assert.rejects(b.revokeLease(id), code('LeaseNotFound'));
      await assert.rejects(b.create(p + 'late', 'x', { lease: id }), code('LeaseNotFound'));
      w.cancel();
    });

    it('an expired lease deletes its keys, not keys moved off it', async (b, p) => {
      const id = await b.grantLease(1);
      await b.create(p + 'a', 'x', { lease: id });
      await b.create(p + 'b', 'x', { lease: id });
      await b.update(p + 'b', 'kept'); // no lease: detached
      const w = record(b, p);
      await waitFor('the leased key to expire', async () => (await b.get(p + 'a')).kv === undefined, opts.leaseDeadlineMs ?? 20_000);
      await waitFor('its delete event', () => w.events.length >= 1);
      assert.deepEqual(
        w.events.map((e) => `${e.type}:${e.kv.key.slice(p.length)}`),
        ['delete:a'],
      );
      assert.equal((await b.get(p + 'b')).kv?.value, 'kept');
      await assert.rejects(b.keepAliveLease(id), code('LeaseNotFound'));
      w.cancel();
    });

    const persistence = opts.persistence;
    const notPersistent = persistence ? false : 'the state of this backend does not outlive the process';

    test('restart: keys, revisions, compaction point, history and leases survive close and reopen', { skip: notPersistent }, async () => {
      const dir = persistence!.newDataDir();
      const p = uniquePrefix();
      let b = await makeBackend(dir);
      const lease = await b.grantLease(3600);
      await b.create(p + 'a', '1');
      await b.create(p + 'leased', 'l', { lease });
      const u = await b.update(p + 'a', '2');
      await b.put(p + 'gone', 'x');
      await b.delete(p + 'gone');
      await b.compact(u.revision);
      const last = await b.put(p + 'b', 'b');
      const before = await b.range({ prefix: p });
      const rev = await b.currentRevision();
      await b.close();

      b = await makeBackend(dir);
      try {
        assert.equal(await b.currentRevision(), rev);
        assert.equal(await b.compactRevision(), u.revision);
        const after = await b.range({ prefix: p });
        assert.deepEqual(after.kvs.map(kvOf), before.kvs.map(kvOf));
        assert.equal((await b.get(p + 'leased')).kv?.lease, lease);
        const w = record(b, p, u.revision);
        await waitFor('history after the restart', () => w.events.length >= 3);
        assert.deepEqual(
          w.events.map((e) => `${e.type}:${e.kv.key.slice(p.length)}`),
          ['put:gone', 'delete:gone', 'put:b'],
        );
        assert.equal(w.events[2]!.kv.modRevision, last.revision);
        w.cancel();
        assert.ok((await b.put(p + 'c', 'c')).revision > rev);
        await b.keepAliveLease(lease);
        const lease2 = await b.grantLease(60);
        assert.notEqual(lease2, lease);
        await b.revokeLease(lease);
        assert.equal((await b.get(p + 'leased')).kv, undefined);
      } finally {
        await b.close();
      }
    });

    test('kill -9 of a writing process loses no acknowledged write', { skip: notPersistent }, async () => {
      const dir = persistence!.newDataDir();
      const p = uniquePrefix();
      const script = join(import.meta.dirname, 'crash-writer.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', script, persistence!.spec, dir, p], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (out += d));
      const exited = new Promise((r) => child.on('exit', r));
      try {
        await waitFor('the child to ack 1000 writes', () => out.split('\n').length > 1000 || child.exitCode !== null, 60_000);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      const lines = out.split('\n').slice(0, -1); // the last piece may be partial
      assert.ok(lines.length > 1000, `the child acked only ${lines.length} lines`);
      const lease = Number(lines.shift()!.split(' ')[1]);
      const b = await makeBackend(dir);
      try {
        const stored = new Map((await b.range({ prefix: p })).kvs.map((kv) => [kv.key, kv]));
        let maxRev = 0;
        for (const line of lines) {
          const [rev, key, value] = line.split(' ');
          const kv = stored.get(key!);
          assert.equal(kv?.value, value, `acked write ${line} is missing`);
          assert.equal(kv.modRevision, Number(rev));
          maxRev = Math.max(maxRev, Number(rev));
        }
        assert.ok((await b.currentRevision()) >= maxRev);
        await b.keepAliveLease(lease);
        await b.revokeLease(lease);
      } finally {
        await b.close();
      }
    });

    test('close ends watchers and refuses calls', async () => {
      const b = await makeBackend();
      const p = uniquePrefix();
      const w = record(b, p);
      await b.create(p + 'a', 'x');
      await b.close();
      await waitFor('Unavailable on the watcher', () => w.errors.length > 0);
      assert.equal(w.errors[0]!.code, 'Unavailable');
      await assert.rejects(b.get(p + 'a'), code('Unavailable'));
      await assert.rejects(b.put(p + 'a', 'y'), code('Unavailable'));
      await b.close(); // idempotent
    });
  });
}
