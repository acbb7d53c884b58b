/**
 * Versions of watch-cache keys, for results derived from the objects under
 * them (auth-result-cache.ts): a key read at version v is unchanged while
 * its version is still v.
 */
import type { CacheEvent } from '../apiserver/registry/watch-cache.ts';

/** What KeyVersions needs of a watch cache (registry/watch-cache.ts WatchCache). */
export interface VersionedCache {
  ready(): Promise<void>;
  onAny(fn: (events: CacheEvent[]) => void): () => void;
}

/**
 * KeyVersions tells whether objects of a cluster's watch cache changed since
 * they were read, for the price of a map lookup: one listener on the cache
 * gives a key a new version on every event for it (the cache applies events
 * and calls listeners synchronously, so once reg.fresh() resolved, every
 * acknowledged write has been counted), and a reload of the cache after a
 * lost store watch, which replays no events, shows as a new ready() promise.
 */
export class KeyVersions {
  private readonly versions = new Map<string, number>();
  private next = 1;
  private readonly loaded: Promise<void>;
  private readonly unsubscribe: () => void;

  constructor(readonly cache: VersionedCache) {
    this.loaded = cache.ready();
    this.unsubscribe = cache.onAny((events) => {
      for (const e of events) if (this.versions.has(e.key)) this.versions.set(e.key, this.next++);
    });
  }

  /** The current version of key (read with the cache fresh); the key is followed from now on. */
  version(key: string): number {
    let v = this.versions.get(key);
    if (v === undefined) {
      if (this.versions.size >= 100_000) this.versions.clear(); // versions are never reused: cleared keys just read as changed
      v = this.next++;
      this.versions.set(key, v);
    }
    return v;
  }

  /** Whether key is still at version v. */
  unchanged(key: string, v: number): boolean {
    return this.versions.get(key) === v && this.cache.ready() === this.loaded;
  }

  stop(): void {
    this.unsubscribe();
  }
}
