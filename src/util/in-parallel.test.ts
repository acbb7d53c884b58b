import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inParallel } from './in-parallel.ts';

test('inParallel runs every task, never more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  const tasks = Array.from({ length: 10 }, (_, i) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    done.push(i);
    running--;
  });
  await inParallel(tasks, 3);
  assert.equal(peak, 3);
  assert.deepEqual([...done].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await inParallel([], 3);
});
