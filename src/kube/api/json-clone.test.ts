import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneJson } from './json-clone.ts';

test('cloneJson: deep copy of JSON values, independent of the original', () => {
  const o = { kind: 'Pod', metadata: { name: 'a', labels: { x: '1' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], n: null, b: true, u: undefined } };
  const c = cloneJson(o);
  assert.deepEqual(c, o);
  assert.ok('u' in c.spec, 'undefined-valued properties are kept, as structuredClone keeps them');
  c.metadata.labels.x = '2';
  c.spec.containers[0]!.ports[0]!.containerPort = 81;
  assert.equal(o.metadata.labels.x, '1');
  assert.equal(o.spec.containers[0]!.ports[0]!.containerPort, 80);
  assert.equal(cloneJson('s'), 's');
  assert.equal(cloneJson(null), null);
});

test('cloneJson: a __proto__ key stays an own property', () => {
  const o = JSON.parse('{"a":{"__proto__":{"polluted":true}}}');
  const c = cloneJson(o);
  assert.equal(Object.getPrototypeOf(c.a), Object.prototype);
  assert.deepEqual(Object.keys(c.a), ['__proto__']);
  assert.equal(({} as any).polluted, undefined);
});

test('cloneJson: non-plain values are copied by structuredClone', () => {
  const o = { d: new Uint8Array([1, 2]) };
  const c = cloneJson(o);
  assert.ok(c.d instanceof Uint8Array);
  assert.notEqual(c.d, o.d);
  assert.deepEqual([...c.d], [1, 2]);
});
