import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthResultCache, InputRecorder } from './auth-result-cache.ts';

describe('AuthResultCache', () => {
  it('serves an entry only inside its window on both clocks', () => {
    const c = new AuthResultCache<string>();
    c.set('t', 'alice', { wallFromMs: 100, wallThroughMs: 200, simFromMs: 1000, simThroughMs: 2000 }, []);
    assert.equal(c.get('t', 150, 1500), 'alice');
    assert.equal(c.get('t', 200, 2000), 'alice', 'bounds are inclusive');
    assert.equal(c.get('t', 150, 2001), undefined, 'past the simulated expiry');
    assert.equal(c.has('t'), false, 'a stale entry is dropped');
    c.set('t', 'alice', { wallFromMs: 100, wallThroughMs: 200 }, []);
    assert.equal(c.get('t', 201, 0), undefined, 'past the wall-clock expiry');
    c.set('t', 'alice', { wallFromMs: 100, wallThroughMs: 200 }, []);
    assert.equal(c.get('t', 99, 0), undefined, 'the clock went back before verification');
    c.set('t', 'alice', {}, []);
    assert.equal(c.get('t', Number.MAX_SAFE_INTEGER, -1), 'alice', 'no bounds: no expiry');
  });

  it('drops an entry once any input changed', () => {
    const c = new AuthResultCache<string>();
    let version = 1;
    const seen = version;
    c.set('t', 'bob', {}, [{ unchanged: () => true }, { unchanged: () => version === seen }]);
    assert.equal(c.get('t', 0, 0), 'bob');
    version = 2;
    assert.equal(c.get('t', 0, 0), undefined);
    assert.equal(c.size, 0);
  });

  it('sweeps entries whose window ended, every 256 sets', () => {
    const c = new AuthResultCache<number>();
    c.set('old-wall', 1, { wallThroughMs: 100 }, []);
    c.set('old-sim', 2, { simThroughMs: 100 }, []);
    c.set('forever', 3, {}, []);
    for (let i = 0; i < 252; i++) c.set(`t${i}`, i, { wallThroughMs: 10_000 }, [], 50, 50);
    assert.equal(c.size, 255);
    c.set('last', 0, {}, [], 1000, 1000); // the 256th set sweeps
    assert.equal(c.has('old-wall'), false);
    assert.equal(c.has('old-sim'), false);
    assert.equal(c.has('forever'), true);
    assert.equal(c.size, 254);
  });

  it('evicts the oldest entry when full', () => {
    const c = new AuthResultCache<number>(2);
    c.set('a', 1, {}, []);
    c.set('b', 2, {}, []);
    c.set('c', 3, {}, []);
    assert.equal(c.get('a', 0, 0), undefined);
    assert.equal(c.get('b', 0, 0), 2);
    assert.equal(c.get('c', 0, 0), 3);
  });
});

describe('InputRecorder', () => {
  it('keeps the first input per key', () => {
    const r = new InputRecorder();
    const first = { unchanged: () => true };
    r.add('doc', first);
    r.add('doc', { unchanged: () => false });
    r.add('other', { unchanged: () => true });
    assert.equal(r.inputs().length, 2);
    assert.equal(r.inputs()[0], first);
  });
});

describe('AuthResultCache keys', () => {
  it('never serves a token for another that ends alike', () => {
    const c = new AuthResultCache<string>();
    const tail = 'x'.repeat(60);
    c.set(`a${tail}`, 'alice', {}, []);
    assert.equal(c.get(`b${tail}`, 0, 0), undefined);
    assert.equal(c.has(`b${tail}`), false);
    assert.equal(c.get(`a${tail}`, 0, 0), 'alice');
    c.set(`b${tail}`, 'bob', {}, []);
    assert.equal(c.get(`a${tail}`, 0, 0), undefined, 'replaced');
    assert.equal(c.get(`b${tail}`, 0, 0), 'bob');
    c.delete(`a${tail}`);
    assert.equal(c.get(`b${tail}`, 0, 0), 'bob', 'deleting another token leaves it');
    c.set('short', 'carol', {}, []);
    assert.equal(c.get('short', 0, 0), 'carol');
  });
});
