import assert from 'node:assert/strict';
import { test } from 'node:test';
import { earliestTimer, SimClock } from './clock.ts';

test('earliestTimer keeps one timer at the earliest time asked for and fires it once', () => {
  const clock = new SimClock({ realNow: () => 0 });
  let fired = 0;
  const t = earliestTimer(clock, () => fired++);
  const t0 = clock.nowMs();
  t.at(t0 + 1000);
  t.at(t0 + 5000); // later: ignored
  t.at(t0 + 500); // earlier: moves the timer
  clock.advance(499);
  assert.equal(fired, 0);
  clock.advance(1);
  assert.equal(fired, 1);
  clock.advance(10_000);
  assert.equal(fired, 1, 'the replaced timers do not fire');
  t.at(clock.nowMs() + 100);
  t.cancel();
  clock.advance(1000);
  assert.equal(fired, 1, 'cancelled');
  t.at(clock.nowMs() + 100);
  clock.advance(100);
  assert.equal(fired, 2, 'usable after a cancel');
  clock.stop();
});
