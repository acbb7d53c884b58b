import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStoreError } from '../backend.ts';
import { runBackendSuite } from '../conformance.ts';
import { MemoryBackend } from './memory-backend.ts';

runBackendSuite('memory', async () => new MemoryBackend({ leaseSweepMs: 50, compaction: false }));

test('memory backend: create, CAS update, watch', async () => {
  const b = new MemoryBackend();
  const seen: string[] = [];
  const w = b.watch('/a/', {}, { onEvents: (evs) => evs.forEach((e) => seen.push(`${e.type}:${e.kv.key}@${e.kv.modRevision}`)), onError: () => {} });
  const c = await b.create('/a/x', '1');
  assert.equal(c.revision, 1);
  await assert.rejects(b.create('/a/x', '2'), (e) => isStoreError(e, 'KeyExists'));
  await assert.rejects(b.update('/a/x', '2', { expectedModRevision: 7 }), (e) => isStoreError(e, 'Conflict'));
  const u = await b.update('/a/x', '2', { expectedModRevision: 1 });
  assert.equal(u.kv.version, 2);
  await b.delete('/a/x');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['put:/a/x@1', 'put:/a/x@2', 'delete:/a/x@3']);
  w.cancel();
  await b.close();
});
