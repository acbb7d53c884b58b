import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CacheEvent } from '../apiserver/registry/watch-cache.ts';
import { KeyVersions, type VersionedCache } from './key-versions.ts';

/** A watch cache stand-in: events are handed to the listeners; reload() replaces the ready promise, as a lost store watch does. */
function fakeCache() {
  const listeners = new Set<(events: CacheEvent[]) => void>();
  let loaded = Promise.resolve();
  const cache: VersionedCache & { emit(key: string): void; reload(): void; listeners: number } = {
    ready: () => loaded,
    onAny(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    emit(key) {
      for (const fn of listeners) fn([{ type: 'MODIFIED', rev: 1, key, resource: 'configmaps', namespace: 'kube-system', obj: {} as any }]);
    },
    reload() {
      loaded = Promise.resolve();
    },
    get listeners() {
      return listeners.size;
    },
  };
  return cache;
}

describe('KeyVersions', () => {
  it('a key read at a version is unchanged until an event for it', () => {
    const cache = fakeCache();
    const kv = new KeyVersions(cache);
    const a = kv.version('/a');
    const b = kv.version('/b');
    assert.equal(kv.version('/a'), a, 'reading again gives the same version');
    cache.emit('/other');
    assert.equal(kv.unchanged('/a', a), true);
    cache.emit('/a');
    assert.equal(kv.unchanged('/a', a), false);
    assert.equal(kv.unchanged('/b', b), true);
    assert.notEqual(kv.version('/a'), a);
  });

  it('a reload of the cache (no events replayed) changes every key', () => {
    const cache = fakeCache();
    const kv = new KeyVersions(cache);
    const a = kv.version('/a');
    cache.reload();
    assert.equal(kv.unchanged('/a', a), false);
  });

  it('stop removes the listener', () => {
    const cache = fakeCache();
    const kv = new KeyVersions(cache);
    assert.equal(cache.listeners, 1);
    kv.stop();
    assert.equal(cache.listeners, 0);
  });
});
