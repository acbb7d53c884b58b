import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compactor } from './compactor.ts';

test('compactor: compacts to the revision seen one tick earlier, keeping minRetainRevisions', async () => {
  let current = 0;
  let compacted = 0;
  const calls: number[] = [];
  const backend = {
    currentRevision: async () => current,
    compactRevision: async () => compacted,
    compact: async (rev: number) => {
      calls.push(rev);
      compacted = rev;
    },
  };
  const c = new Compactor(backend, { intervalMs: 3_600_000, minRetainRevisions: 10 });
  current = 100;
  await c.tick(); // nothing seen before: keeps everything
  assert.deepEqual(calls, []);
  current = 105;
  await c.tick(); // one interval of history (back to 100), but at least 10 revisions: 95
  assert.deepEqual(calls, [95]);
  current = 300;
  await c.tick(); // back to what the previous tick saw
  assert.deepEqual(calls, [95, 105]);
  await c.tick(); // no writes since: at most current - 10
  assert.deepEqual(calls, [95, 105, 290]);
  await c.tick(); // nothing new to compact
  assert.deepEqual(calls, [95, 105, 290]);
  c.close();
});

test('compactor: errors go to onError and later ticks still run', async () => {
  const errors: unknown[] = [];
  let current = 50;
  let fail = true;
  const backend = {
    currentRevision: async () => current,
    compactRevision: async () => 0,
    compact: async () => {
      if (fail) throw new Error('boom');
    },
  };
  const c = new Compactor(backend, { intervalMs: 3_600_000, minRetainRevisions: 1 }, (e) => errors.push(e));
  await c.tick();
  current = 60;
  await c.tick();
  assert.equal(errors.length, 1);
  fail = false;
  await c.tick();
  assert.equal(errors.length, 1);
  c.close();
});
