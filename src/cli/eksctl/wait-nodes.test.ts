import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliContext } from './context.ts';
import { EksctlError, EXIT } from './errors.ts';
import type { KubeClient } from './kube-client.ts';
import { waitNodesReady } from './nodegroups.ts';

const node = (name: string, ready: boolean, rv: string) => ({ metadata: { name, resourceVersion: rv }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });

/** A KubeClient whose lists answer `lists` in turn and whose watches the test drives. */
function fakeKube(lists: any[][]) {
  const paths: string[] = [];
  const watches: Array<{ path: string; emit: (ev: { type: string; object: any }) => void; end: (status: number) => void; closed: boolean }> = [];
  let n = 0;
  const kube: KubeClient = {
    async request(_method, path) {
      paths.push(path);
      const items = lists[Math.min(n++, lists.length - 1)]!;
      return { status: 200, body: { metadata: { resourceVersion: String(10 * n) }, items } };
    },
    watch(path, onEvent) {
      let end!: (v: { status: number }) => void;
      const w = { path, emit: onEvent, end: (status: number) => end({ status }), closed: false };
      watches.push(w);
      return { ended: new Promise((r) => (end = r)), close: () => ((w.closed = true), end({ status: 200 })) };
    },
  };
  return { kube, paths, watches };
}

const ctx = (deadlineMs = 10_000) => ({ deadline: Date.now() + deadlineMs }) as CliContext;
const tick = () => new Promise((r) => setTimeout(r, 5));

test('waitNodesReady: lists, then watches from the list revision; a Ready condition written ends the wait at once', async () => {
  const f = fakeKube([[node('a', true, '3'), node('b', false, '4')]]);
  const counts: number[] = [];
  const done = waitNodesReady(ctx(), f.kube, 2, '?labelSelector=x%3Dy', () => true, (c) => counts.push(c));
  await tick();
  assert.deepEqual(f.paths, ['/api/v1/nodes?labelSelector=x%3Dy']);
  assert.equal(f.watches.length, 1);
  assert.equal(f.watches[0]!.path, '/api/v1/nodes?labelSelector=x%3Dy&watch=1&allowWatchBookmarks=true&resourceVersion=10');
  f.watches[0]!.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } });
  f.watches[0]!.emit({ type: 'MODIFIED', object: node('b', true, '13') });
  await done;
  assert.deepEqual(counts, [1, 2]);
  assert.equal(f.watches[0]!.closed, true, 'the watch is closed when the wait ends');
});

test('waitNodesReady: a watch ERROR (410 Gone) lists again; an ended stream resumes from the last revision seen', async () => {
  const f = fakeKube([[node('a', false, '3')], [node('a', false, '3'), node('b', false, '5')]]);
  const done = waitNodesReady(ctx(), f.kube, 2, '', () => true, () => {});
  await tick();
  f.watches[0]!.emit({ type: 'ADDED', object: node('b', false, '15') });
  f.watches[0]!.end(200);
  await tick();
  assert.match(f.watches[1]!.path, /resourceVersion=15$/, 'resumed from the last event');
  f.watches[1]!.emit({ type: 'ERROR', object: { kind: 'Status', code: 410 } });
  await tick();
  assert.equal(f.paths.length, 2, 'listed again');
  assert.match(f.watches[2]!.path, /resourceVersion=20$/);
  f.watches[2]!.emit({ type: 'MODIFIED', object: node('a', true, '21') });
  f.watches[2]!.emit({ type: 'DELETED', object: node('b', false, '22') });
  f.watches[2]!.emit({ type: 'ADDED', object: node('c', true, '23') });
  await done;
});

test('waitNodesReady: nodes the matcher rejects do not count; past the deadline it times out (exit 4)', async () => {
  const f = fakeKube([[node('a', true, '3'), node('other', true, '4')]]);
  await assert.rejects(
    waitNodesReady(ctx(300), f.kube, 2, '', (n) => n.metadata.name !== 'other', () => {}),
    (e: unknown) => e instanceof EksctlError && e.exitCode === EXIT.TIMEOUT && /timed out waiting for 2 nodes to be Ready/.test(e.message),
  );
  assert.equal(f.watches[0]!.closed, true);
});
