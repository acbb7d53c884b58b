import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkSlice } from './work-slice.ts';

test('WorkSlice: due once its budget of synchronous work is spent; yield lets timers and I/O run, then starts a new slice', async () => {
  // A clock of its own: the test does not depend on how fast this machine runs it.
  let t = 1000;
  const slice = new WorkSlice(5, () => t);
  let due = false;
  for (let i = 0; i < 16; i++) due ||= slice.due();
  assert.equal(due, false, 'a fresh slice is not due');
  t += 10;
  for (let i = 0; i < 16 && !due; i++) due = slice.due();
  assert.equal(due, true, 'due after the budget');
  let ran = false;
  setImmediate(() => (ran = true));
  await slice.yield();
  assert.equal(ran, true, 'pending callbacks ran during the yield');
  due = false;
  for (let i = 0; i < 16; i++) due ||= slice.due();
  assert.equal(due, false, 'a new slice after the yield');
});
