import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneJson, isPlainJson, isPlainJsonOver, jsonCopy } from './json-clone.ts';

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

test('isPlainJsonOver: isPlainJson of objects sharing members with a plain base', () => {
  let seed = 3;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n;
  };
  assert.equal(isPlainJsonOver({ a: 1, n: undefined }, { a: 1 }), false, 'a member undefined where base has none');
  const plain = (d: number): unknown => {
    const r = rnd(d > 3 ? 3 : 5);
    if (r === 0) return 's' + rnd(3);
    if (r === 1) return rnd(2) ? 1.5 : null;
    if (r === 2) return true;
    if (r === 3) return Array.from({ length: rnd(3) }, () => plain(d + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(4); i > 0; i--) o['k' + rnd(5)] = plain(d + 1);
    return o;
  };
  const odd = [undefined, NaN, -0, Infinity, new Date(0), () => 1, Object.create(null)];
  // A copy of base sharing some members, with some members changed (to plain or odd values).
  const derive = (base: any, d: number): any => {
    if (base === null || typeof base !== 'object' || rnd(4) === 0) return rnd(5) === 0 ? odd[rnd(odd.length)] : plain(d);
    if (rnd(3) === 0) return base;
    if (Array.isArray(base)) {
      const a = base.map((x) => (rnd(2) ? x : derive(x, d + 1)));
      if (rnd(6) === 0) a.length += 1;
      return a;
    }
    const o: Record<string, unknown> = { ...base };
    for (const k of Object.keys(o)) if (rnd(2)) o[k] = derive(o[k], d + 1);
    if (rnd(4) === 0) o['n' + rnd(3)] = rnd(3) ? plain(d + 1) : odd[rnd(odd.length)];
    return o;
  };
  let odds = 0;
  for (let i = 0; i < 5000; i++) {
    const base = JSON.parse(JSON.stringify({ root: plain(0) })).root;
    const v = derive(base, 0);
    const want = isPlainJson(v);
    if (!want) odds++;
    assert.equal(isPlainJsonOver(v, base), want);
  }
  assert.ok(odds > 100, 'odd values were tried');
});
