import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventName } from './object-events.ts';

test('event names: the object name and the event time in hex nanoseconds, distinct within a millisecond', () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const a = eventName('web-7c5d-abcde', at);
  const b = eventName('web-7c5d-abcde', at);
  assert.match(a, /^web-7c5d-abcde\.[0-9a-f]+$/);
  assert.notEqual(a, b);
  for (const n of [a, b]) {
    const nanos = BigInt(`0x${n.split('.')[1]}`);
    assert.equal(nanos / 1_000_000n, BigInt(at), 'the time to the millisecond');
  }
});
