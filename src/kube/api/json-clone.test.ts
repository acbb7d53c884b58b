import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneJson, isPlainJson, jsonCopy } from './json-clone.ts';

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

test('jsonCopy: what a JSON round trip gives', () => {
  const cases: unknown[] = [
    { a: 1, b: undefined, c: [1, undefined, () => 1, NaN, -0, Infinity], d: { e: null, f: () => 1, g: 'x' }, h: true },
    [{ x: undefined }],
    { t: { toJSON: () => 'T' } },
    'plain',
    JSON.parse('{"__proto__":{"p":1},"q":[{"__proto__":2}]}'),
  ];
  for (const v of cases) {
    const c = jsonCopy(v);
    assert.deepEqual(c, JSON.parse(JSON.stringify(v)));
    assert.equal(JSON.stringify(c), JSON.stringify(v));
  }
  const o = { m: { n: [1] } };
  const c = jsonCopy(o);
  c.m.n.push(2);
  assert.deepEqual(o.m.n, [1]);
  assert.ok(Object.is((jsonCopy({ z: -0 }) as { z: number }).z, 0));
});

test('isPlainJson: true exactly when jsonCopy would give an equal object', () => {
  const plain = JSON.parse('{"a":{"__proto__":{"x":1}},"b":[1,"s",null,true,{"c":[]}],"n":-1.5}');
  for (const v of [plain, {}, [], 's', 0, null]) {
    assert.equal(isPlainJson(v), true, JSON.stringify(v));
    assert.deepEqual(jsonCopy(v), v);
  }
  const notPlain: unknown[] = [{ u: undefined }, { f() {} }, [undefined], [1, , 2], { n: NaN }, { n: Infinity }, { z: -0 }, { d: new Date(0) }, { t: { toJSON: () => 1 } }, { m: new Map() }, Object.create(null), undefined];
  notPlain.forEach((v, i) => assert.equal(isPlainJson(v), false, `case ${i}`));
});
